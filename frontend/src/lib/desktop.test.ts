import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

// The Go side as Wails puts it on window, faked: which bound method sendPath
// calls is what is checked.
const bound = {
  Upload: vi.fn(async () => ({ id: 'new', key: 'originals/new.mp4' })),
  ResumeUpload: vi.fn(async () => ({ id: 'resumed', key: '' })),
  CancelUpload: vi.fn(async () => {}),
}

beforeAll(() => {
  const store = new Map<string, string>()
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => store.set(k, v),
    removeItem: (k: string) => store.delete(k),
  })
  vi.stubGlobal('window', { go: { desktop: { App: bound } }, runtime: { EventsOn: () => () => {} } })
})
afterAll(() => vi.unstubAllGlobals())

describe('sendPath', () => {
  it('uploads a path anew, unless resumeNext named an upload to go on with', async () => {
    const { resumeNext, sendPath } = await import('./desktop.svelte')
    expect(await sendPath('/v/a.mp4', () => {}).done).toEqual({ id: 'new', key: 'originals/new.mp4' })
    expect(bound.Upload).toHaveBeenCalledWith('/v/a.mp4')

    resumeNext('http://s/api/uploads/x.mp4', '/v/a.mp4')
    expect((await sendPath('/v/a.mp4', () => {}).done).id).toBe('resumed')
    expect(bound.ResumeUpload).toHaveBeenCalledWith('http://s/api/uploads/x.mp4')

    // Once: choosing the file again later starts a new upload.
    await sendPath('/v/a.mp4', () => {}).done
    expect(bound.Upload).toHaveBeenCalledTimes(2)
    expect(bound.ResumeUpload).toHaveBeenCalledTimes(1)
  })
})
