import { describe, expect, it, vi } from 'vitest'
import { startFiles, wireDesktop, type WiringIO } from './desktop-wiring'
import { TitleNotice } from './title-notice'
import type { Finished } from './upload.svelte'

function setup(opts: { chosen?: string | Error; focused?: boolean; statuses?: string[] } = {}) {
  const handlers = new Map<string, (data: unknown) => void>()
  const ends: ((f: Finished) => void)[] = []
  const titles: string[] = []
  const statuses = [...(opts.statuses ?? ['done'])]
  const io = {
    on: <T>(name: string, cb: (data: T) => void) => {
      handlers.set(name, cb as (data: unknown) => void)
      return () => handlers.delete(name)
    },
    go: vi.fn(),
    choose: vi.fn(async () => {
      if (opts.chosen instanceof Error) throw opts.chosen
      return opts.chosen ?? ''
    }),
    upload: {
      paths: vi.fn(async () => {}),
      fail: vi.fn(),
      onEnd: (cb: (f: Finished) => void) => {
        ends.push(cb)
        return () => ends.splice(ends.indexOf(cb), 1)
      },
    },
    focusOpen: vi.fn(),
    title: new TitleNotice({ setTitle: (t) => titles.push(t), focused: () => opts.focused ?? false }),
    status: vi.fn(async () => ({ status: statuses.shift() ?? 'done' })),
    wait: () => Promise.resolve(),
  } satisfies WiringIO
  const off = wireDesktop(io)
  const emit = (name: string, data?: unknown) => handlers.get(name)!(data)
  const end = (f: Finished) => ends.forEach((cb) => cb(f))
  return { io, emit, end, titles, off, handlers, ends }
}

const flush = () => new Promise((r) => setTimeout(r, 0))

describe('wireDesktop', () => {
  it('uploads files handed over by Go (dropped, or a second launch) in order, on the upload page', () => {
    const { io, emit } = setup()
    emit('files:dropped', ['/v/a.mp4', '/v/b.mp4'])
    expect(io.upload.paths).toHaveBeenCalledWith(['/v/a.mp4', '/v/b.mp4'])
    expect(io.go).toHaveBeenCalledWith('/')
    emit('files:dropped', [])
    expect(io.upload.paths).toHaveBeenCalledTimes(1)
  })

  it('opens the pages Go names', () => {
    const { io, emit } = setup()
    emit('navigate', '/library')
    expect(io.go).toHaveBeenCalledWith('/library')
  })

  it("menu Upload video…: the upload page and the Open dialog; the chosen file uploads", async () => {
    const { io, emit } = setup({ chosen: '/v/c.mov' })
    emit('menu:upload')
    await flush()
    expect(io.go).toHaveBeenCalledWith('/')
    expect(io.choose).toHaveBeenCalled()
    expect(io.upload.paths).toHaveBeenCalledWith(['/v/c.mov'])
  })

  it('menu Upload video…, cancelled: nothing uploads; a dialog that fails says so', async () => {
    const quiet = setup({ chosen: '' })
    quiet.emit('menu:upload')
    await flush()
    expect(quiet.io.upload.paths).not.toHaveBeenCalled()
    const broken = setup({ chosen: new Error('no display') })
    broken.emit('menu:upload')
    await flush()
    expect(broken.io.upload.fail).toHaveBeenCalledWith('Error: no display')
  })

  it('menu Open video…: focuses the field', () => {
    const { io, emit } = setup()
    emit('menu:open-video')
    expect(io.focusOpen).toHaveBeenCalled()
  })

  it('in the background, the title says an upload ended, then that its video is ready', async () => {
    const { io, end, titles } = setup({ focused: false, statuses: ['pending', 'processing', 'done'] })
    end({ name: 'clip.mp4', phase: 'done', videoId: 'v1', message: '' })
    expect(titles).toEqual(['AssetLab — Uploaded: clip.mp4'])
    await flush()
    expect(io.status).toHaveBeenCalledTimes(3)
    expect(io.status).toHaveBeenCalledWith('v1')
    expect(titles.at(-1)).toBe('AssetLab — clip.mp4 is ready to watch')
    io.title.focus()
    expect(titles.at(-1)).toBe('AssetLab')
  })

  it('a failed upload is told; a cancelled one is not, nor anything while the window has the focus', async () => {
    const bg = setup({ focused: false })
    bg.end({ name: 'a.mp4', phase: 'failed', videoId: '', message: 'x' })
    bg.end({ name: 'b.mp4', phase: 'cancelled', videoId: '', message: '' })
    await flush()
    expect(bg.titles).toEqual(['AssetLab — Upload failed: a.mp4'])
    expect(bg.io.status).not.toHaveBeenCalled()
    const fg = setup({ focused: true })
    fg.end({ name: 'a.mp4', phase: 'done', videoId: 'v1', message: '' })
    await flush()
    expect(fg.titles).toEqual([])
  })

  it('undoes all it wired', () => {
    const { off, handlers, ends } = setup()
    off()
    expect(handlers.size).toBe(0)
    expect(ends).toHaveLength(0)
  })
})

describe('startFiles', () => {
  it("uploads the command line's files on the upload page; none, nothing", () => {
    const io = { upload: { paths: vi.fn(async () => {}), fail: vi.fn(), onEnd: () => () => {} }, go: vi.fn() }
    startFiles(io, null)
    expect(io.go).not.toHaveBeenCalled()
    startFiles(io, ['/v/a.mp4'])
    expect(io.upload.paths).toHaveBeenCalledWith(['/v/a.mp4'])
    expect(io.go).toHaveBeenCalledWith('/')
  })
})
