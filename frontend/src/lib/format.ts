// Formatting and parsing helpers, free of the DOM so they are unit-tested.

import type { ServerConfig, Waiting } from './api'

// Binary units, named as such: the server's limits are powers of 1024.
const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 → "1.5 KiB", 1073741824 → "1 GiB" (a whole number shows no decimal). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–'
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  const digits = i === 0 || Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 1 : 0)
  return `${digits} ${units[i]}`
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}

/** Tracks upload speed (smoothed) and the time left. */
export class Rate {
  private lastBytes = 0
  private lastTime = NaN
  /** Bytes per second, exponentially smoothed. */
  speed = 0

  update(bytes: number, now: number): void {
    if (now > this.lastTime) {
      const instant = ((bytes - this.lastBytes) * 1000) / (now - this.lastTime)
      this.speed = this.speed === 0 ? instant : 0.8 * this.speed + 0.2 * instant
    }
    this.lastBytes = bytes
    this.lastTime = now
  }

  /** Seconds until total bytes are sent, or NaN when unknown. */
  eta(bytes: number, total: number): number {
    return this.speed > 0 ? (total - bytes) / this.speed : NaN
  }
}

const formatNames: Record<string, string> = { '.webm': 'WebM' }

/** [".mp4", ".mov", ".webm"] → "MP4, MOV or WebM". */
export function formatList(extensions: string[]): string {
  const names = [...new Set(extensions.map((e) => formatNames[e] ?? e.replace(/^\./, '').toUpperCase()))]
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : (names[0] ?? '')
}

/** [".mp4", ".mov"] → "an MP4 or MOV file"; [".webm"] → "a WebM file" (a vowel, or a letter said with one, takes "an"). */
export function fileKinds(extensions: string[]): string {
  const list = formatList(extensions)
  return `${/^([AEIOU]|[FHLMNRSX][A-Z0-9])/.test(list) ? 'an' : 'a'} ${list} file`
}

/** Why a file cannot be uploaded to a server that says it takes cfg, or null if it may be. */
export function checkFile(file: { name: string; size: number; type: string }, cfg: ServerConfig): string | null {
  const name = file.name.toLowerCase()
  if (!cfg.accepted_types.includes(file.type) && !cfg.accepted_extensions.some((ext) => name.endsWith(ext))) {
    return `“${file.name}” is not a video AssetLab can take. Choose ${fileKinds(cfg.accepted_extensions)}.`
  }
  if (file.size === 0) {
    return `“${file.name}” is empty.`
  }
  if (file.size > cfg.max_upload_bytes) {
    return `“${file.name}” is ${formatBytes(file.size)}; the limit is ${formatBytes(cfg.max_upload_bytes)}.`
  }
  return null
}

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i

/** The video ID in what a person typed or pasted: an ID, or a link holding one. */
export function parseVideoRef(input: string): string | null {
  const m = input.trim().match(uuid)
  return m ? m[0].toLowerCase() : null
}

/**
 * What the watch page says of a video that is pending; originalPlays false
 * where this browser cannot decode the original. builtInProblem is what the
 * desktop app's built-in transcoder lacks (its FFmpeg), when it is the one
 * that cannot start.
 */
export function pendingMessage(waiting: Waiting | undefined, originalPlays = true, builtInProblem = ''): string {
  const meanwhile = originalPlays ? ' The original plays meanwhile.' : ''
  if (waiting === 'no_worker' && builtInProblem) {
    return `This app cannot transcode videos: ${builtInProblem}. Reinstall AssetLab (its installer ships FFmpeg) or install FFmpeg; the app checks again every minute.${meanwhile}`
  }
  if (waiting === 'no_worker') {
    return `No transcoder is running: ask the server's admin to start one (ffmpeg missing?).${meanwhile}`
  }
  return `Waiting in line for a transcoder…${meanwhile}`
}
