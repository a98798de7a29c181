// What the watch page plays and how it names qualities: decisions free of
// the DOM and of hls.js, so that they are unit-tested. Player.svelte wires
// them to the <video> element, hls-session.ts to hls.js.

import type { Rendition, Video } from './api'
import { formatDuration } from './format'

/** How this browser plays HLS: hls.js over MediaSource, natively (Safari), or not at all. */
export type HlsEngine = 'hlsjs' | 'native' | null

/**
 * hls.js wherever it works (Hls.isSupported(): MediaSource is there), even
 * where the browser also claims HLS (Chromium answers "maybe" now): hls.js
 * gives the quality menu. Else the browser's own HLS, else none.
 */
export function hlsEngine(hlsjsSupported: boolean, nativeAnswer: string): HlsEngine {
  if (hlsjsSupported) return 'hlsjs'
  return nativeAnswer !== '' ? 'native' : null
}

/**
 * What plays: the HLS stream at url, a file (a rendition's quality, or
 * "original"), or nothing yet (the original cannot be decoded here and no
 * other version exists).
 */
export type Plan = { kind: 'hls'; url: string } | { kind: 'file'; quality: string } | { kind: 'none' }

export const original = 'original'

/**
 * A quality's name from its frame size: the short side, as the server names
 * renditions (1280x720 → "720p", a portrait 1080x1920 → "1080p"). '' when
 * the size is unknown.
 */
export function qualityName(width: number, height: number): string {
  const sides = [width, height].filter((n) => Number.isFinite(n) && n > 0)
  return sides.length ? `${Math.min(...sides)}p` : ''
}

/** 2_500_000 → "2.5 Mb/s", 800_000 → "800 kb/s". */
export function formatBitrate(bps: number): string {
  if (!Number.isFinite(bps) || bps <= 0) return ''
  if (bps >= 1e6) return `${Number((bps / 1e6).toFixed(1))} Mb/s`
  return `${Math.round(bps / 1e3)} kb/s`
}

export interface LevelInfo {
  width: number
  height: number
  bitrate: number
}

/**
 * The menu names of an HLS stream's levels, in their order. Each is named
 * by its short side; a name two levels share, or a level of unknown size,
 * takes its bitrate too, so that every name is one level.
 */
export function levelNames(levels: LevelInfo[]): string[] {
  const base = levels.map((l) => qualityName(l.width, l.height))
  const names = base.map((n, i) => {
    const shared = n !== '' && base.indexOf(n) !== base.lastIndexOf(n)
    if (n !== '' && !shared) return n
    const rate = formatBitrate(levels[i].bitrate)
    return [n, rate].filter(Boolean).join(', ') || `Level ${i + 1}`
  })
  // Still equal (same size and bitrate): number them.
  return names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? `${n} (${i + 1})` : n))
}

/** The Auto option's label, with the level Auto plays now if known: "Auto (720p)". */
export function autoLabel(playing: string | undefined): string {
  return playing ? `Auto (${playing})` : 'Auto'
}

/** The largest rendition whose short side is at most 720, else the smallest: a sensible default, never the original. */
export function defaultRendition(renditions: Rendition[]): Rendition | undefined {
  const short = (r: Rendition) => Math.min(r.width, r.height) || Number.parseInt(r.quality, 10) || 0
  const sorted = [...renditions].sort((a, b) => short(a) - short(b))
  return sorted.filter((r) => short(r) <= 720).pop() ?? sorted[0]
}

/**
 * What plays when the viewer has not chosen: the HLS stream where it exists
 * and this browser plays HLS; else a rendition (a video transcoded before
 * HLS, or a browser without HLS); else the original, unless this browser
 * cannot decode it.
 */
export function defaultPlan(v: Video, hlsUsable: boolean, originalUndecodable: boolean): Plan {
  if (v.hls_url && hlsUsable) return { kind: 'hls', url: v.hls_url }
  const r = defaultRendition(v.renditions)
  if (r) return { kind: 'file', quality: r.quality }
  return originalUndecodable ? { kind: 'none' } : { kind: 'file', quality: original }
}

export function samePlan(a: Plan | null, b: Plan | null): boolean {
  if (!a || !b) return a === b
  if (a.kind === 'hls' && b.kind === 'hls') return a.url === b.url
  if (a.kind === 'file' && b.kind === 'file') return a.quality === b.quality
  return a.kind === b.kind
}

/**
 * What to play after new details arrive, or null to keep on. A stream whose
 * address changed (another attempt took over) restarts on the new one; the
 * original, or nothing, gives way to the stream or a rendition as soon as
 * one exists, except an original the viewer already watches and that
 * plays: a viewer is not cut off mid-way. A rendition the viewer chose
 * stays.
 */
export function nextPlan(
  current: Plan,
  v: Video,
  ctx: { hlsUsable: boolean; originalUndecodable: boolean; started: boolean },
): Plan | null {
  const want = defaultPlan(v, ctx.hlsUsable, ctx.originalUndecodable)
  if (current.kind === 'hls') {
    if (v.hls_url) return v.hls_url === current.url ? null : { kind: 'hls', url: v.hls_url }
    // The stream is gone (the transcode failed): what else there is.
    return want
  }
  if (current.kind === 'file' && current.quality !== original) return null
  if (samePlan(current, want)) return null
  if (current.kind === 'file' && !ctx.originalUndecodable && ctx.started) return null
  return want
}

/**
 * Whether the stream reaches time: all of it once transcoded, else what is
 * published so far. A player moving to a stream that does not reach its
 * position yet (another attempt took over, or the viewer leaves the
 * original for it) would fall back to the stream's end: it waits instead.
 */
export function streamCovers(v: Video, time: number): boolean {
  return v.status === 'done' || (v.playable_seconds ?? 0) >= time + 1
}

export interface MenuOption {
  value: string
  label: string
}

/**
 * The quality menu. With hls.js: Auto, then each level. Otherwise: Auto
 * (the stream) when there is one, each rendition, and the original while
 * nothing says this browser cannot decode it.
 */
export function menuOptions(
  plan: Plan | null,
  engine: HlsEngine | undefined,
  v: Video,
  ctx: { levels: string[]; autoPlaying: string; originalUndecodable: boolean; hlsUsable: boolean },
): MenuOption[] {
  if (plan?.kind === 'hls' && engine === 'hlsjs') {
    return [{ value: 'auto', label: autoLabel(ctx.autoPlaying) }, ...ctx.levels.map((l) => ({ value: l, label: l }))]
  }
  const out: MenuOption[] = []
  if (v.hls_url && ctx.hlsUsable) out.push({ value: 'auto', label: 'Auto' })
  for (const r of [...v.renditions].sort((a, b) => Math.min(a.width, a.height) - Math.min(b.width, b.height))) {
    out.push({ value: r.quality, label: r.quality })
  }
  if (!ctx.originalUndecodable) out.push({ value: original, label: 'Original' })
  return out
}

/** Whether a video has a picture, as far as its details tell: only a finished transcode knows the size. */
export function expectsVideo(v: Video): boolean {
  return v.status !== 'done' || (v.width ?? 0) > 0
}

/**
 * Before the original loads: what canPlayType's answer for its type says.
 * "" is a no, except for QuickTime: Chromium and Firefox answer "" for
 * video/quicktime yet play the many .mov files that hold H.264, so such a
 * file is tried and judged by what loads (see verdictOnMetadata).
 */
export function verdictBeforeLoad(contentType: string, answer: string): 'try' | 'cannot' {
  if (answer !== '') return 'try'
  return contentType.split(';')[0].trim().toLowerCase() === 'video/quicktime' ? 'try' : 'cannot'
}

/**
 * Once the original's metadata loaded: a file with a picture whose
 * videoWidth is 0 has a video track this browser cannot decode. Chromium
 * plays an HEVC .mov's sound over a frozen poster and reports no error.
 */
export function verdictOnMetadata(videoWidth: number, hasVideo: boolean): 'plays' | 'cannot' {
  return hasVideo && videoWidth === 0 ? 'cannot' : 'plays'
}

// MediaError codes (the DOM's MediaError is not there in unit tests).
export const MEDIA_ERR_ABORTED = 1
export const MEDIA_ERR_NETWORK = 2
export const MEDIA_ERR_DECODE = 3
export const MEDIA_ERR_SRC_NOT_SUPPORTED = 4

/**
 * On an error of a file that plays: "renew" its link (expired links look
 * like a network error, or like a format the browser does not take), or
 * "cannot" decode it. A format error for the original before any metadata,
 * on a link just renewed, is a format it cannot decode; so is a decode error.
 */
export function verdictOnError(code: number | undefined, ctx: { isOriginal: boolean; hadMetadata: boolean; renewed: boolean }): 'ignore' | 'renew' | 'cannot' {
  if (code === MEDIA_ERR_ABORTED || code === undefined) return 'ignore'
  if (!ctx.isOriginal) return 'renew'
  if (code === MEDIA_ERR_DECODE) return 'cannot'
  if (code === MEDIA_ERR_SRC_NOT_SUPPORTED && !ctx.hadMetadata && ctx.renewed) return 'cannot'
  return 'renew'
}

/**
 * Delays before each retry: doubling from base up to max, and null once
 * tries are spent. reset() after the player plays on again.
 */
export class Backoff {
  #failures = 0

  constructor(
    readonly base = 500,
    readonly max = 15_000,
    readonly tries = 8,
  ) {}

  /** The wait before the next retry, in milliseconds, or null to give up. */
  next(): number | null {
    if (this.#failures >= this.tries) return null
    return Math.min(this.max, this.base * 2 ** this.#failures++)
  }

  get failures(): number {
    return this.#failures
  }

  reset(): void {
    this.#failures = 0
  }
}

/**
 * hls.js settings: start at the beginning (or where a restart resumes),
 * since a playlist still being written (EVENT, no ENDLIST) would otherwise
 * start at its live edge; buffer at least half a minute ahead (hls.js goes
 * further for a low bitrate, up to 60 MB: two minutes at most here), keep a
 * minute behind for seeking back, and do not fetch more pixels than the
 * player shows.
 *
 * When the transcode ends, each media playlist turns from EVENT (segments
 * "360p/0.m4s"…) into VOD (the same segments as byte ranges of
 * "360p.mp4"). hls.js takes a segment whose URI changes under the same
 * sequence number for a "media sequence mismatch" and, on every level,
 * ends in a fatal error: with ignorePlaylistParsingErrors it takes the new
 * playlist and plays on.
 */
export function hlsConfig(startPosition: number) {
  return {
    startPosition: Math.max(0, startPosition),
    ignorePlaylistParsingErrors: true,
    maxBufferLength: 30,
    maxMaxBufferLength: 120,
    backBufferLength: 60,
    capLevelToPlayerSize: true,
  }
}

/** What the player says when this browser cannot decode the original and no other version exists yet. */
export function undecodableMessage(v: Video): string {
  const cannot = "This browser can't play the original file's video format."
  switch (v.status) {
    case 'processing':
      return `${cannot} A playable version is being made: ${v.progress ?? 0}%…`
    case 'pending':
      return `${cannot} A playable version will be made when a transcoder takes the video.`
    case 'error':
      return "This browser can't play the original file's video format, and making a playable version failed. Download the original to watch it in another player."
    default:
      return `${cannot} Download the original to watch it in another player.`
  }
}

/** The words over the progress bar while transcoding runs. */
export function processingMessage(v: Video): string {
  const pct = `${v.progress ?? 0}%`
  if (!v.hls_url) return `Making other qualities… ${pct}`
  const playable = v.playable_seconds ?? 0
  if (playable <= 0) return `Transcoding… ${pct}`
  return `Transcoding… ${pct}. The first ${formatDuration(playable)} can be watched now; the rest follows as it is made.`
}
