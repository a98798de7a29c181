// One hls.js player on a <video> element. hls.js is fetched on first use, as
// a chunk of its own: the upload and library pages do not carry it.

import type { ErrorData, LevelSwitchedData } from 'hls.js'
import { hlsConfig, type LevelInfo } from './playback'

type HlsModule = typeof import('hls.js')
export type HlsClass = HlsModule['default']

let loading: Promise<HlsClass> | undefined

/** hls.js (its light build: no subtitles, DRM or alternate audio, which the server never makes). */
export function loadHls(): Promise<HlsClass> {
  loading ??= import('hls.js/light').then((m) => m.default)
  // A failed fetch (offline for a moment) may be tried again later.
  loading.catch(() => (loading = undefined))
  return loading
}

export interface SessionEvents {
  /** The stream's levels, in hls.js's order (the index setLevel takes). */
  levels(levels: LevelInfo[]): void
  /** The level now playing. */
  switched(index: number): void
  /** A fatal error: hls.js has given up on its own retries. */
  fatal(kind: 'network' | 'media' | 'other', detail: string): void
}

export class HlsSession {
  readonly #hls: InstanceType<HlsClass>

  constructor(
    Hls: HlsClass,
    media: HTMLVideoElement,
    readonly url: string,
    startPosition: number,
    on: SessionEvents,
  ) {
    const hls = new Hls(hlsConfig(startPosition))
    this.#hls = hls
    hls.on(Hls.Events.MANIFEST_PARSED, () => on.levels(hls.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate }))))
    hls.on(Hls.Events.LEVEL_SWITCHED, (_: unknown, d: LevelSwitchedData) => on.switched(d.level))
    hls.on(Hls.Events.ERROR, (_: unknown, d: ErrorData) => {
      if (!d.fatal) return // hls.js retries those itself
      const kind = d.type === Hls.ErrorTypes.NETWORK_ERROR ? 'network' : d.type === Hls.ErrorTypes.MEDIA_ERROR ? 'media' : 'other'
      on.fatal(kind, d.details)
    })
    hls.loadSource(url)
    hls.attachMedia(media)
  }

  /** Plays one level from now on (flushing what is buffered), or lets hls.js choose (-1). */
  setLevel(index: number): void {
    this.#hls.currentLevel = index
  }

  /** The level playing, or -1 before the first. */
  get level(): number {
    return this.#hls.currentLevel
  }

  recoverMediaError(): void {
    this.#hls.recoverMediaError()
  }

  destroy(): void {
    this.#hls.destroy()
  }
}
