import { flushSync } from 'svelte'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { DesktopInfo } from './desktop.svelte'

// The Go side as Wails puts it on window, faked: Info says where uploads go,
// and SaveSettings switches it, as App.SaveSettings does.
let current: DesktopInfo = {
  server_url: 'http://127.0.0.1:3000',
  local: true,
  lan_url: 'http://192.168.1.5:3000',
  token: 'local-token',
  version: 'dev',
}
const bound = {
  Info: vi.fn(async () => current),
  SaveSettings: vi.fn(async (url: string, token: string) => {
    current = { server_url: url, local: false, token, version: 'dev' }
  }),
}

beforeAll(() => {
  const store = new Map<string, string>()
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => store.set(k, v),
    removeItem: (k: string) => store.delete(k),
  })
  vi.stubGlobal('window', { go: { desktop: { App: bound } }, runtime: { EventsOn: () => () => {} } })
  vi.stubGlobal('location', { origin: 'http://app.wails' })
  vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('offline'))))
})
afterAll(() => vi.unstubAllGlobals())

describe('shareBase', () => {
  it('follows the server at once when another is saved, as the upload page derives it', async () => {
    const { desktop, desktopInfo } = await import('./desktop.svelte')
    const { shareBase } = await import('./share')
    await desktopInfo.load()

    const seen: string[] = []
    const stop = $effect.root(() => {
      // As UploadPage.svelte: const shareBase = $derived(shareBase())
      const base = $derived(shareBase())
      $effect(() => {
        seen.push(base)
      })
    })
    flushSync()
    expect(seen).toEqual(['http://192.168.1.5:3000'])

    // What the server card does on Save.
    await desktop!.SaveSettings('https://videos.example', 'remote-token')
    await desktopInfo.load()
    flushSync()
    expect(seen).toEqual(['http://192.168.1.5:3000', 'https://videos.example'])
    stop()
  })
})
