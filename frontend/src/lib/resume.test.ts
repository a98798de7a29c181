import { describe, expect, it, vi } from 'vitest'
import type { PendingUpload } from './desktop.svelte'
import { Resumes, sentLabel, type ResumeIO } from './resume.svelte'

function pending(over: Partial<PendingUpload> = {}): PendingUpload {
  return {
    url: 'http://127.0.0.1:3000/api/uploads/a.mp4',
    server: 'http://127.0.0.1:3000',
    name: 'clip.mp4',
    path: '/home/me/clip.mp4',
    size: 100,
    sent: 43,
    percent: 43.7,
    started: '2026-01-01T00:00:00Z',
    ...over,
  }
}

function setup(list: PendingUpload[]) {
  const io: ResumeIO = {
    list: vi.fn(async () => list),
    discard: vi.fn(async () => {}),
    resume: vi.fn(),
  }
  return { io, r: new Resumes(io) }
}

describe('Resumes', () => {
  it('offers what can go on and tells, once, what cannot', async () => {
    const ok = pending()
    const changed = pending({ url: 'u2', name: 'b.mp4', problem: '“b.mp4” has changed since its upload began', code: 'file_changed' })
    const { r } = setup([ok, changed])
    await r.load()
    expect(r.pending).toEqual([ok])
    expect(r.notices).toEqual([changed.problem])
    await r.load()
    expect(r.notices).toEqual([changed.problem])
    r.dismiss()
    expect(r.notices).toEqual([])
  })

  it('resumes through the upload flow, with the upload URL and the file path', async () => {
    const { io, r } = setup([pending()])
    await r.load()
    r.resume(r.pending[0])
    expect(io.resume).toHaveBeenCalledWith('http://127.0.0.1:3000/api/uploads/a.mp4', '/home/me/clip.mp4')
    expect(r.pending).toEqual([])
  })

  it('discards, and on failure says why and lists again', async () => {
    const { io, r } = setup([pending()])
    await r.load()
    await r.discard(r.pending[0])
    expect(io.discard).toHaveBeenCalledWith('http://127.0.0.1:3000/api/uploads/a.mp4')
    expect(r.pending).toEqual([])

    io.discard = vi.fn(async () => Promise.reject('The list of uploads under way cannot be saved: disk full'))
    await r.discard(pending())
    expect(r.notices).toEqual(['The list of uploads under way cannot be saved: disk full'])
    expect(r.pending).toHaveLength(1)
  })
})

describe('sentLabel', () => {
  it.each([
    [43.7, '43 % sent'],
    [0, '0 % sent'],
    [100, '100 % sent'],
    [-1, ''],
  ])('%s → %j', (percent, want) => {
    expect(sentLabel(pending({ percent }))).toBe(want)
  })
})
