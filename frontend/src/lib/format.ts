// Formatting and parsing helpers, free of the DOM so they are unit-tested.

import type { Waiting } from './api'

export const MAX_UPLOAD_BYTES = 1 << 30

const units = ['B', 'KB', 'MB', 'GB', 'TB']

/** 1536 → "1.5 KB" (powers of 1024, as the server's limits are). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–'
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`
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
  private lastTime = 0
  /** Bytes per second, exponentially smoothed. */
  speed = 0

  update(bytes: number, now: number): void {
    if (this.lastTime > 0 && now > this.lastTime) {
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

const videoTypes = ['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska']
const videoExtensions = ['.mp4', '.m4v', '.mov', '.webm', '.mkv']

/** Why a file cannot be uploaded, or null if it may be. */
export function checkFile(file: { name: string; size: number; type: string }): string | null {
  const name = file.name.toLowerCase()
  if (!videoTypes.includes(file.type) && !videoExtensions.some((ext) => name.endsWith(ext))) {
    return `“${file.name}” is not a video AssetLab can take. Choose an MP4, MOV, WebM or MKV file.`
  }
  if (file.size === 0) {
    return `“${file.name}” is empty.`
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return `“${file.name}” is ${formatBytes(file.size)}; the limit is 1 GB.`
  }
  return null
}

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i

/** The video ID in what a person typed or pasted: an ID, or a link holding one. */
export function parseVideoRef(input: string): string | null {
  const m = input.trim().match(uuid)
  return m ? m[0].toLowerCase() : null
}

/** What the watch page says of a video that is pending. */
export function pendingMessage(waiting: Waiting | undefined): string {
  if (waiting === 'no_worker') {
    return "No transcoder is running: ask the server's admin to start one (ffmpeg missing?). The original plays meanwhile."
  }
  return 'Waiting in line for a transcoder… The original plays meanwhile.'
}
