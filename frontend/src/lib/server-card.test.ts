import { describe, expect, it, vi } from 'vitest'
import type { DesktopInfo } from './desktop.svelte'
import { copyText, maskToken, movedNote, problemText } from './server-card'

const local: DesktopInfo = {
  server_url: 'http://127.0.0.1:3001',
  local: true,
  lan_url: 'http://192.168.1.5:3001',
  token: 'abc123',
  version: 'dev',
}

describe('server card', () => {
  it('hides the token with a dot per character', () => {
    expect(maskToken('abc123')).toBe('••••••')
    expect(maskToken('x'.repeat(40))).toBe('•'.repeat(24))
    expect(maskToken('')).toBe('')
  })

  it('copies to the clipboard, and says when the clipboard refused', async () => {
    const clip = { writeText: vi.fn(async () => {}) }
    expect(await copyText('tok', clip)).toBe(true)
    expect(clip.writeText).toHaveBeenCalledWith('tok')
    expect(await copyText('tok', { writeText: async () => Promise.reject(new Error('denied')) })).toBe(false)
    expect(await copyText('tok', undefined)).toBe(false)
    expect(await copyText('', clip)).toBe(false)
  })

  it('says the address changed only when the built-in server moved', () => {
    expect(movedNote(local)).toBe('')
    expect(movedNote({ ...local, port_moved_from: 3000 })).toContain('Port 3000 was taken')
    expect(movedNote({ ...local, local: false, port_moved_from: 3000 })).toBe('')
    expect(movedNote(null)).toBe('')
  })

  it("shows Go's words for a refused server as they are", () => {
    const go = 'Not saved: the server at http://x:3000 refused the upload token. Check the token and try again.'
    expect(problemText(go)).toBe(go)
    expect(problemText(new Error(go))).toBe(go)
  })
})
