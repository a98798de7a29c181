// The upload flow as one state object, the same for the browser (the page
// sends a File, resumably with tus where the server can take it) and the
// desktop app (Go reads the file from disk and sends it): phase, bytes,
// speed, time left, resuming; start and cancel. The page only draws it.
import type { ServerConfig, Transfer } from './api'
import { errorCode, errorMessage } from './errors'
import { checkFile, Rate } from './format'
import type { ResumableProgress } from './resumable'

export type Phase = 'idle' | 'uploading' | 'done' | 'failed' | 'cancelled'

/** How an earlier upload of a batch (files dropped together) ended. */
export interface Finished {
  name: string
  phase: 'done' | 'failed' | 'cancelled'
  videoId: string
  message: string
}

/** A file waiting its turn. */
interface Queued {
  name: string
  start: () => Promise<void>
}

type Send<T> = (what: T, onProgress: (p: ResumableProgress) => void) => Transfer

export interface UploadIO {
  /** Starts sending a file chosen in the browser. */
  sendFile: Send<File>
  /** Starts sending a file from disk by its path (the desktop app, whose Go side checks it). */
  sendPath: Send<string>
  /** What the server accepts. */
  config: () => ServerConfig
  /** The upload token in force ('' when none is set). */
  token: () => string
  /** A clock in milliseconds (performance.now in the page). */
  now?: () => number
}

export class Upload {
  phase = $state<Phase>('idle')
  fileName = $state('')
  /** Bytes sent so far, of total. */
  loaded = $state(0)
  total = $state(0)
  /** Bytes per second, smoothed; 0 until known. */
  speed = $state(0)
  /** Seconds left; NaN until known. */
  eta = $state(NaN)
  /** Why the last upload failed. */
  message = $state('')
  /** The new video's ID once done. */
  videoId = $state('')
  /** Where an upload left unfinished by an earlier page resumed, in bytes; NaN for a new one. */
  resumedAt = $state(NaN)
  /** True while the connection is lost and the upload waits to go on by itself. */
  retrying = $state(false)

  readonly percent = $derived(this.total > 0 ? Math.min(100, Math.floor((100 * this.loaded) / this.total)) : 0)
  /** "Resuming at 43 %", or '' for an upload that started from the beginning. */
  readonly resumeNote = $derived(
    Number.isFinite(this.resumedAt) && this.total > 0 ? `Resuming at ${Math.floor((100 * this.resumedAt) / this.total)} %` : '',
  )

  /** Names of the files waiting their turn, in order. */
  queued = $state<string[]>([])
  /** The earlier uploads of this batch, in order; the last one shows as phase. */
  finished = $state<Finished[]>([])

  #abort: (() => void) | null = null
  #cancelled = false
  #queue: Queued[] = []
  #pumping = false
  #onEnd: ((f: Finished) => void)[] = []

  constructor(private io: UploadIO) {}

  /** Calls cb as each upload ends (done, failed or cancelled); returns the function that stops it. */
  onEnd(cb: (f: Finished) => void): () => void {
    this.#onEnd.push(cb)
    return () => (this.#onEnd = this.#onEnd.filter((f) => f !== cb))
  }

  /**
   * Uploads a file chosen in the browser, once it passes the server's
   * limits; while another upload runs, it waits its turn. The promise ends
   * with the batch it starts, or at once for a file that waits.
   */
  file(f: File): Promise<void> {
    return this.files([f])
  }

  /** Uploads files one after another (several dropped at once). */
  files(fs: File[]): Promise<void> {
    return this.#add(fs.map((f) => ({ name: f.name, start: () => this.#sendFile(f) })))
  }

  /** Uploads a file from disk by its path (the desktop app); it waits its turn as file does. */
  path(path: string): Promise<void> {
    return this.paths([path])
  }

  /** Uploads files from disk one after another (the desktop app's drops). */
  paths(paths: string[]): Promise<void> {
    return this.#add(
      paths.map((p) => ({
        name: baseName(p),
        start: () => this.#run(baseName(p), 0, (onProgress) => this.io.sendPath(p, onProgress)),
      })),
    )
  }

  /** Cancels the upload under way; it ends as cancelled, "Upload cancelled.", and the next one waiting starts. */
  cancel(): void {
    if (!this.#abort) return
    this.#cancelled = true
    this.#abort()
  }

  /** Cancels the upload under way and drops the ones waiting. */
  cancelAll(): void {
    this.#queue = []
    this.queued = []
    this.cancel()
  }

  /** Back to the start, for another upload. */
  reset(): void {
    if (this.phase === 'uploading' || this.#pumping) return
    this.phase = 'idle'
    this.fileName = ''
    this.videoId = ''
    this.message = ''
    this.resumedAt = NaN
    this.finished = []
  }

  /** Shows a problem met before anything was sent (no file chosen, say). */
  fail(message: string): void {
    if (this.phase !== 'uploading') this.#fail(message)
  }

  #add(items: Queued[]): Promise<void> {
    this.#queue.push(...items)
    this.queued = this.#queue.map((q) => q.name)
    if (this.#pumping) return Promise.resolve()
    this.finished = []
    return this.#pump()
  }

  // Starts the files waiting, one after another; each one that ends while
  // others wait joins the finished list, the last one stays as the phase.
  async #pump(): Promise<void> {
    this.#pumping = true
    try {
      while (this.#queue.length > 0) {
        const next = this.#queue.shift()!
        this.queued = this.#queue.map((q) => q.name)
        await next.start()
        const phase = this.phase === 'uploading' || this.phase === 'idle' ? 'failed' : this.phase
        const ended: Finished = { name: this.fileName, phase, videoId: this.videoId, message: this.message }
        if (this.#queue.length > 0) this.finished.push(ended)
        // Every end, a file refused before anything was sent included.
        for (const cb of this.#onEnd) cb(ended)
      }
    } finally {
      this.#pumping = false
    }
  }

  #sendFile(f: File): Promise<void> {
    this.fileName = f.name
    const problem = checkFile(f, this.io.config())
    if (problem) return this.#fail(problem)
    if (!this.io.token()) return this.#fail('Enter the upload token first.')
    return this.#run(f.name, f.size, (onProgress) => this.io.sendFile(f, onProgress))
  }

  #fail(message: string): Promise<void> {
    this.phase = 'failed'
    this.videoId = ''
    this.message = message
    return Promise.resolve()
  }

  async #run(name: string, size: number, start: (onProgress: (p: ResumableProgress) => void) => Transfer): Promise<void> {
    this.fileName = name
    this.phase = 'uploading'
    this.message = ''
    this.videoId = ''
    this.loaded = 0
    this.total = size
    this.speed = 0
    this.eta = NaN
    this.resumedAt = NaN
    this.retrying = false
    this.#cancelled = false
    const now = this.io.now ?? (() => performance.now())
    let rate = new Rate()
    rate.update(0, now())
    let t: Transfer
    try {
      t = start((p) => {
        this.retrying = !!p.retrying
        if (p.resumedAt !== undefined) this.resumedAt = p.resumedAt
        const fresh = p.resumedAt !== undefined || p.retrying || p.loaded < this.loaded
        this.loaded = p.loaded
        this.total = p.total
        if (fresh) {
          // Where a resumed upload starts, a wait for the connection, or the
          // offset the server kept after a drop: the speed so far says
          // nothing of what comes; it is measured from here.
          rate = new Rate()
          rate.update(p.loaded, now())
          this.speed = 0
          this.eta = NaN
          return
        }
        rate.update(p.loaded, now())
        this.speed = rate.speed
        this.eta = rate.eta(p.loaded, p.total)
      })
    } catch (e) {
      return this.#fail(errorMessage(e))
    }
    this.#abort = t.abort
    try {
      const res = await t.done
      this.videoId = res.id
      this.loaded = this.total
      this.phase = 'done'
    } catch (e) {
      if (this.#cancelled || errorCode(e) === 'cancelled') {
        // The person's own doing, not an error.
        this.phase = 'cancelled'
        this.message = 'Upload cancelled.'
      } else this.#fail(errorMessage(e))
    } finally {
      this.#abort = null
      this.retrying = false
    }
  }
}

/** The last element of a file path, on any OS. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path
}
