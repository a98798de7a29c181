import { describe, expect, it, vi } from 'vitest'
import { ApiError, defaultConfig, type ServerConfig, type UploadResult } from './api'
import type { ResumableProgress as UploadProgress } from './resumable'
import { Upload, type UploadIO } from './upload.svelte'

/** A transfer the test drives: progress, then an answer or a failure. */
function fakeTransfer() {
  let report!: (p: UploadProgress) => void
  let resolve!: (r: UploadResult) => void
  let reject!: (e: unknown) => void
  const abort = vi.fn(() => reject(new ApiError(-1, 'cancelled')))
  const done = new Promise<UploadResult>((res, rej) => {
    resolve = res
    reject = rej
  })
  const start = vi.fn((_: unknown, onProgress: (p: UploadProgress) => void) => {
    report = onProgress
    return { done, abort }
  })
  return { start, abort, progress: (p: UploadProgress) => report(p), resolve, reject }
}

function setup(cfg: ServerConfig = defaultConfig, token = 'tok') {
  const t = fakeTransfer()
  let clock = 0
  const io: UploadIO = {
    sendFile: t.start,
    sendPath: t.start,
    config: () => cfg,
    token: () => token,
    now: () => clock,
  }
  return { up: new Upload(io), t, tick: (ms: number) => (clock += ms) }
}

const file = (name: string, size: number, type = 'video/mp4') => ({ name, size, type }) as File

describe('Upload', () => {
  it('reports bytes, percent, speed and time left, then the video', async () => {
    const { up, t, tick } = setup()
    const f = file('clip.mp4', 4 << 20)
    const done = up.file(f)
    expect(t.start).toHaveBeenCalledWith(f, expect.any(Function))
    expect([up.phase, up.fileName, up.loaded, up.total, up.percent]).toEqual(['uploading', 'clip.mp4', 0, 4 << 20, 0])
    expect(up.eta).toBeNaN()

    tick(1000)
    t.progress({ loaded: 1 << 20, total: 4 << 20 })
    expect(up.loaded).toBe(1 << 20)
    expect(up.percent).toBe(25)
    expect(up.speed).toBe(1 << 20) // 1 MiB in 1 s
    expect(up.eta).toBe(3)

    t.resolve({ id: 'v1', key: 'k' })
    await done
    expect([up.phase, up.videoId, up.percent]).toEqual(['done', 'v1', 100])
  })

  it('cancels: the transfer is aborted and the upload ends as cancelled', async () => {
    const { up, t } = setup()
    const done = up.file(file('clip.mp4', 10))
    up.cancel()
    await done
    expect(t.abort).toHaveBeenCalledOnce()
    expect([up.phase, up.message]).toEqual(['cancelled', 'Upload cancelled.'])
  })

  it('cancels the desktop app\'s upload too, whatever words Go rejects with', async () => {
    const { up, t } = setup()
    t.abort.mockImplementation(() => t.reject('upload cancelled'))
    const done = up.path('/tmp/clip.mp4')
    up.cancel()
    await done
    expect([up.phase, up.message]).toEqual(['cancelled', 'Upload cancelled.'])
  })

  it('says where a resumed upload goes on from, and counts speed from there', async () => {
    const { up, t, tick } = setup()
    const done = up.file(file('clip.mp4', 100 << 20))
    expect(up.resumeNote).toBe('')
    tick(1000)
    t.progress({ loaded: 43 << 20, total: 100 << 20, resumedAt: 43 << 20 })
    expect([up.resumeNote, up.percent, up.speed]).toEqual(['Resuming at 43 %', 43, 0])
    tick(1000)
    t.progress({ loaded: 44 << 20, total: 100 << 20 })
    expect(up.speed).toBe(1 << 20) // 1 MiB in 1 s, not 44
    t.resolve({ id: 'v1', key: '' })
    await done
    expect(up.phase).toBe('done')
    up.reset()
    expect(up.resumeNote).toBe('')
  })

  it('shows a lost connection while it waits, and goes on from the offset the server has', async () => {
    const { up, t, tick } = setup()
    const done = up.file(file('clip.mp4', 10 << 20))
    tick(1000)
    t.progress({ loaded: 6 << 20, total: 10 << 20 })
    t.progress({ loaded: 6 << 20, total: 10 << 20, retrying: true })
    expect([up.retrying, up.phase, up.loaded, up.speed, up.eta]).toEqual([true, 'uploading', 6 << 20, 0, NaN])
    // The server kept 5 MiB of the 6 sent.
    tick(5000)
    t.progress({ loaded: 5 << 20, total: 10 << 20 })
    expect([up.retrying, up.loaded, up.speed]).toEqual([false, 5 << 20, 0])
    tick(1000)
    t.progress({ loaded: 7 << 20, total: 10 << 20 })
    expect(up.speed).toBe(2 << 20)
    t.resolve({ id: 'v1', key: '' })
    await done
    expect([up.phase, up.retrying]).toEqual(['done', false])
  })

  it("says the server's refusal in the client's words", async () => {
    const { up, t } = setup()
    const done = up.file(file('clip.mp4', 10))
    t.reject(new ApiError(507, 'storage_full', 'storage is full: free up space on the server, then try again'))
    await done
    expect(up.phase).toBe('failed')
    expect(up.message).toMatch(/^The server's storage is full/)
  })

  it.each([
    ['over the limit', file('big.mp4', (8 << 20) + 1), 'tok', /the limit is 8 MiB\.$/],
    ['not a video', file('notes.txt', 10, 'text/plain'), 'tok', /not a video/],
    ['empty', file('a.mp4', 0), 'tok', /empty/],
    ['no token', file('a.mp4', 10), '', /Enter the upload token first/],
  ])('refuses before sending: %s', async (_, f, token, want) => {
    const { up, t } = setup({ ...defaultConfig, max_upload_bytes: 8 << 20 }, token)
    await up.file(f)
    expect(t.start).not.toHaveBeenCalled()
    expect(up.phase).toBe('failed')
    expect(up.message).toMatch(want)
  })

  it('takes one upload at a time; the others wait their turn', async () => {
    const { up, t } = setup()
    up.file(file('a.mp4', 10))
    await up.file(file('b.mp4', 10))
    up.path('/tmp/c.mp4')
    expect(t.start).toHaveBeenCalledOnce()
    expect(up.fileName).toBe('a.mp4')
    expect(up.queued).toEqual(['b.mp4', 'c.mp4'])
    up.reset() // not while it runs
    expect(up.phase).toBe('uploading')
  })

  it('uploads files dropped together one after another, each with its progress and outcome', async () => {
    const ts: ReturnType<typeof fakeTransfer>[] = []
    const start = vi.fn((what: unknown, onProgress: (p: UploadProgress) => void) => {
      const t = fakeTransfer()
      ts.push(t)
      return t.start(what, onProgress)
    })
    const up = new Upload({ sendFile: start, sendPath: start, config: () => defaultConfig, token: () => 'tok', now: () => 0 })
    const batch = up.paths(['/v/a.mp4', '/v/b.mov', '/v/c.mkv', '/v/d.webm'])
    expect([up.fileName, up.queued]).toEqual(['a.mp4', ['b.mov', 'c.mkv', 'd.webm']])
    ts[0].progress({ loaded: 30, total: 100 })
    expect(up.percent).toBe(30)
    ts[0].resolve({ id: 'va', key: 'k' })
    await vi.waitFor(() => expect(ts).toHaveLength(2))

    // The second starts from nothing, with its own progress.
    expect([up.phase, up.fileName, up.loaded, up.percent, up.queued]).toEqual(['uploading', 'b.mov', 0, 0, ['c.mkv', 'd.webm']])
    expect(up.finished).toEqual([{ name: 'a.mp4', phase: 'done', videoId: 'va', message: '' }])
    // A file dropped meanwhile joins the end of the line.
    void up.path('/v/e.mp4')
    expect(up.queued).toEqual(['c.mkv', 'd.webm', 'e.mp4'])
    ts[1].reject('the server is gone')
    await vi.waitFor(() => expect(ts).toHaveLength(3))
    up.cancel() // c only: the others still go
    await vi.waitFor(() => expect(ts).toHaveLength(4))
    expect(up.finished.map((f) => [f.name, f.phase, f.message])).toEqual([
      ['a.mp4', 'done', ''],
      ['b.mov', 'failed', 'the server is gone'],
      ['c.mkv', 'cancelled', 'Upload cancelled.'],
    ])
    expect(up.fileName).toBe('d.webm')
    ts[3].resolve({ id: 'vd', key: 'k' })
    await vi.waitFor(() => expect(ts).toHaveLength(5))
    ts[4].resolve({ id: 've', key: 'k' })
    await batch
    // The last one shows as the page's outcome, the earlier ones as a list.
    expect([up.phase, up.fileName, up.videoId, up.queued]).toEqual(['done', 'e.mp4', 've', []])
    expect(up.finished.map((f) => f.videoId)).toEqual(['va', '', '', 'vd'])
    up.reset()
    expect([up.phase, up.finished]).toEqual(['idle', []])
  })

  it('cancels all: the one under way ends as cancelled and the waiting ones are dropped', async () => {
    const { up, t } = setup()
    const batch = up.paths(['/v/a.mp4', '/v/b.mp4'])
    up.cancelAll()
    await batch
    expect(t.start).toHaveBeenCalledOnce()
    expect([up.phase, up.message, up.queued, up.finished]).toEqual(['cancelled', 'Upload cancelled.', [], []])
  })

  it('goes on past a file that fails the checks before sending', async () => {
    const { up, t } = setup()
    void up.files([file('notes.txt', 10, 'text/plain'), file('b.mp4', 10)])
    await vi.waitFor(() => expect(t.start).toHaveBeenCalledOnce())
    expect(up.fileName).toBe('b.mp4')
    expect(up.finished.map((f) => [f.name, f.phase])).toEqual([['notes.txt', 'failed']])
  })

  it('sends a path from disk (the desktop app), showing its base name', async () => {
    const { up, t, tick } = setup()
    const done = up.path('C:\\Users\\me\\Videos\\holiday.mov')
    expect(t.start).toHaveBeenCalledWith('C:\\Users\\me\\Videos\\holiday.mov', expect.any(Function))
    expect(up.fileName).toBe('holiday.mov')
    tick(500)
    t.progress({ loaded: 50, total: 100 })
    expect(up.percent).toBe(50)
    // Go rejects with its own words.
    t.reject('“holiday.mov” is 2.5 GiB; the limit is 1 GiB.')
    await done
    expect([up.phase, up.message]).toEqual(['failed', '“holiday.mov” is 2.5 GiB; the limit is 1 GiB.'])
    up.reset()
    expect([up.phase, up.message, up.fileName]).toEqual(['idle', '', ''])
  })

  it('tells each upload\'s end to whoever listens (the window title), until they stop', async () => {
    const { up, t } = setup()
    const ends: string[] = []
    const off = up.onEnd((f) => ends.push(`${f.name} ${f.phase} ${f.videoId}`))
    const done = up.path('/home/me/clip.mp4')
    expect(ends).toEqual([])
    t.resolve({ id: 'v1', key: 'k' })
    await done
    expect(ends).toEqual(['clip.mp4 done v1'])
    off()
    // The fake transfer's answer stands: the next upload ends at once, unheard.
    await up.path('/home/me/other.mp4')
    expect(ends).toHaveLength(1)
  })

  it('tells the end of a file refused before anything was sent', async () => {
    const { up, t } = setup(defaultConfig, '')
    const ends: string[] = []
    up.onEnd((f) => ends.push(`${f.name} ${f.phase} ${f.message}`))
    await up.file(file('notes.txt', 10, 'text/plain'))
    await up.file(file('clip.mp4', 10))
    expect(t.start).not.toHaveBeenCalled()
    expect(ends).toHaveLength(2)
    expect(ends[0]).toMatch(/^notes\.txt failed \S/)
    expect(ends[1]).toBe('clip.mp4 failed Enter the upload token first.')
  })
})
