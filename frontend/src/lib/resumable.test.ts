import { describe, expect, it, vi } from 'vitest'
import { DetailedError, type HttpRequest, type HttpResponse } from 'tus-js-client'
import { defaultConfig } from './api'
import { errorMessage } from './errors'
import { chunkBytes, chunkBytesKey, defaultChunkBytes, fileSender, retryDelays, shouldRetry, tusError } from './resumable'

/** A DetailedError as tus-js-client makes it: with the server's answer, or none (the network). */
function failure(status?: number, body = ''): DetailedError {
  const res =
    status === undefined
      ? null
      : ({ getStatus: () => status, getBody: () => body, getHeader: () => undefined } as unknown as HttpResponse)
  const req = { getMethod: () => 'PATCH', getURL: () => '/api/uploads/x', getHeader: () => undefined } as unknown as HttpRequest
  return Object.assign(new DetailedError('tus: failed'), { originalRequest: req, originalResponse: res })
}

describe('resumable uploads', () => {
  it('sends 64 MiB chunks unless a test sets another size', () => {
    expect(defaultChunkBytes).toBe(64 << 20)
    const store = (v: string | null) => ({ getItem: (k: string) => (k === chunkBytesKey ? v : null) })
    expect(chunkBytes(store(null))).toBe(64 << 20)
    expect(chunkBytes(store(String(2 << 20)))).toBe(2 << 20)
    expect(chunkBytes(store('12'))).toBe(64 << 20) // too small to mean it
    expect(chunkBytes(store('lots'))).toBe(64 << 20)
    expect(chunkBytes(undefined)).toBe(64 << 20)
  })

  it('keeps retrying through an outage of minutes, waiting longer each time', () => {
    expect(retryDelays[0]).toBe(0)
    for (let i = 1; i < retryDelays.length; i++) expect(retryDelays[i]).toBeGreaterThanOrEqual(retryDelays[i - 1])
    // A 5 s outage is well inside the first few tries.
    expect(retryDelays.slice(0, 4).reduce((a, b) => a + b)).toBeGreaterThan(5000)
    expect(retryDelays.reduce((a, b) => a + b)).toBeGreaterThan(5 * 60_000)
  })

  it.each([
    ['no answer', undefined, true],
    ['500', 500, true],
    ['503', 503, true],
    ['offset mismatch', 409, true],
    ['locked', 423, true],
    ['bad token', 401, false],
    ['too large', 413, false],
    ['not a video', 415, false],
    ['gone', 404, false],
  ])('retries on %s: %s', (_, status, want) => {
    expect(shouldRetry(failure(status))).toBe(want)
  })

  it('retries while the browser says it is offline (tus-js-client by itself would not)', () => {
    vi.stubGlobal('navigator', { onLine: false })
    try {
      expect(shouldRetry(failure())).toBe(true)
      expect(shouldRetry(failure(401))).toBe(false)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it.each([
    ['no answer', failure(), 'The server cannot be reached. Check your connection and try again.'],
    ['bad token', failure(401, '{"error":"invalid token","code":"invalid_token"}\n'), 'The token was refused. Check it and try again.'],
    ['too large', failure(413, '{"error":"file too large","code":"file_too_large"}'), "The file is larger than this server's limit."],
    // tusd's own refusal, in plain text: the status speaks.
    ['too large, tusd', failure(413, 'ERR_MAX_SIZE_EXCEEDED: maximum size exceeded\n'), "The file is larger than this server's limit."],
    ['not a video', failure(415, '{"error":"not a supported video file","code":"unsupported_type"}'), /^This file is not a video AssetLab can take/],
    ['storage full', failure(507, '{"error":"storage is full","code":"storage_full"}'), /^The server's storage is full/],
    ['an expired upload', failure(404, '{"error":"no such upload","code":"upload_not_found"}'), /^The server no longer has this upload/],
  ])('says %s in the same words as a plain upload', (_, err, want) => {
    const msg = errorMessage(tusError(err))
    if (typeof want === 'string') expect(msg).toBe(want)
    else expect(msg).toMatch(want)
  })

  it('sends resumably only where the server offers it', () => {
    const resumable = vi.fn()
    const plain = vi.fn()
    const on = { ...defaultConfig, features: { ...defaultConfig.features, resumable_uploads: true } }
    expect(fileSender(on, resumable, plain)).toBe(resumable)
    expect(fileSender(defaultConfig, resumable, plain)).toBe(plain)
  })
})
