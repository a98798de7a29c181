// While the desktop app's window is in the background, what happened there
// (an upload finished, a video is ready to watch) shows in its title, which
// the task bar and the window switcher show, until the window is looked at
// again.

export interface TitleIO {
  /** Sets the window's title (the Wails runtime's WindowSetTitle). */
  setTitle(title: string): void
  /** Whether the person is looking at the window (document.hasFocus and visible). */
  focused(): boolean
}

export class TitleNotice {
  #shown = false

  constructor(
    private io: TitleIO,
    readonly base = 'AssetLab',
  ) {}

  /** Puts message in the title, unless the window has the focus (the page shows it there). */
  notify(message: string): void {
    if (this.io.focused()) return
    this.#shown = true
    this.io.setTitle(`${this.base} — ${message}`)
  }

  /** The window has the focus again: the plain title. */
  focus(): void {
    if (!this.#shown) return
    this.#shown = false
    this.io.setTitle(this.base)
  }
}

/** How an upload or a transcode ended, in words for the title. */
export function uploadNotice(name: string, phase: 'done' | 'failed' | 'cancelled'): string {
  if (phase === 'done') return `Uploaded: ${name}`
  if (phase === 'failed') return `Upload failed: ${name}`
  return ''
}

export function transcodeNotice(name: string, status: string): string {
  if (status === 'done') return `${name} is ready to watch`
  if (status === 'error') return `${name} could not be transcoded`
  return ''
}

/**
 * Asks for a video's status until its transcode ends, and returns that
 * status ('done' or 'error'); '' if stop() is called or the video is gone.
 */
export async function transcodeEnd(
  get: () => Promise<{ status: string }>,
  wait: (ms: number) => Promise<void>,
  stopped: () => boolean,
  everyMs = 3000,
): Promise<string> {
  let failures = 0
  while (!stopped()) {
    try {
      const { status } = await get()
      failures = 0
      if (status === 'done' || status === 'error') return status
    } catch {
      // A lost connection: keep asking for a while; a video that stays
      // unreachable is given up.
      if (++failures >= 20) return ''
    }
    await wait(everyMs)
  }
  return ''
}
