// What the desktop app's Go side asks of the page, whatever page shows:
// files to upload (dropped on the window, opened with the app, or handed
// over by a second launch), the menu's commands, pages to open; and the
// window title's notices while the window is in the background.
import { transcodeEnd, transcodeNotice, TitleNotice, uploadNotice } from './title-notice'
import type { Finished } from './upload.svelte'

export interface WiringIO {
  /** Subscribes to a Go event; returns the unsubscribe function. */
  on<T>(name: string, cb: (data: T) => void): () => void
  /** Opens a page of the app. */
  go(path: string): void
  /** The native Open dialog; '' when cancelled. */
  choose(): Promise<string>
  upload: {
    paths(paths: string[]): Promise<void>
    fail(message: string): void
    onEnd(cb: (f: Finished) => void): () => void
  }
  /** Focuses the header's "open a video" field. */
  focusOpen(): void
  title: TitleNotice
  /** A video's status, to tell when its transcode ends. */
  status(id: string): Promise<{ status: string }>
  wait?: (ms: number) => Promise<void>
}

/** Wires it all; returns the function that undoes it. */
export function wireDesktop(io: WiringIO): () => void {
  let stopped = false
  const wait = io.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const offs = [
    io.on<string[]>('files:dropped', (paths) => startFiles(io, paths)),
    io.on<string>('navigate', (path) => path && io.go(path)),
    io.on('menu:upload', async () => {
      io.go('/')
      try {
        const path = await io.choose()
        if (path) void io.upload.paths([path])
      } catch (e) {
        io.upload.fail(String(e))
      }
    }),
    io.on('menu:open-video', () => io.focusOpen()),
    io.upload.onEnd((f) => {
      const words = uploadNotice(f.name, f.phase)
      if (words) io.title.notify(words)
      if (f.phase !== 'done' || !f.videoId) return
      void transcodeEnd(() => io.status(f.videoId), wait, () => stopped).then((status) => {
        const words = transcodeNotice(f.name, status)
        if (words) io.title.notify(words)
      })
    }),
  ]
  return () => {
    stopped = true
    offs.forEach((off) => off())
  }
}

/** Files given on the command line: they upload as dropped files do. */
export function startFiles(io: Pick<WiringIO, 'upload' | 'go'>, paths: string[] | null | undefined): void {
  if (!paths?.length) return
  void io.upload.paths(paths)
  io.go('/')
}
