import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, defaultConfig, getVideo, listVideos } from './api'
import { serverConfig } from './config.svelte'
import { errorMessage } from './errors'

afterEach(() => {
  vi.unstubAllGlobals()
  serverConfig.current = defaultConfig
  serverConfig.fromServer = false
})

describe('errorMessage', () => {
  it.each([
    // A code the client knows: its own words.
    [new ApiError(401, 'invalid_token', 'invalid token'), /^The token was refused/],
    [new ApiError(401, 'missing_token', 'missing bearer token'), /^Enter the upload token/],
    [new ApiError(415, 'unsupported_type', 'not a supported video file'), /Upload an MP4, MOV, WebM or MKV file\.$/],
    [new ApiError(507, 'storage_full', 'storage is full'), /storage is full: ask its admin/],
    [new ApiError(503, 'too_many_uploads', 'too many uploads in progress'), /busy with other uploads/],
    [new ApiError(404, 'video_not_found', 'video not found'), /^There is no video with this ID/],
    [new ApiError(400, 'bad_request', 'missing the field "file"'), /could not take the request: missing the field "file"\.$/],
    [new ApiError(0, 'unreachable'), /^The server cannot be reached/],
    [new ApiError(-1, 'cancelled'), /^Upload cancelled\.$/],
    // A code it does not know: the server's text.
    [new ApiError(418, 'brand_new_code', 'a newer server says so'), /^a newer server says so$/],
    // An older server sends no code: the status stands in where it can.
    [new ApiError(401, '', 'invalid token'), /^The token was refused/],
    [new ApiError(413, '', 'file too large: the limit is 8 MiB'), /^The file is too large: the limit is 8 MiB\.$/],
    [new ApiError(413, '', 'too big'), /larger than this server's limit/],
    [new ApiError(500, '', ''), /^The server answered 500\.$/],
    // Not from the server: the desktop app's Go side rejects with its words.
    ['“a.mp4” is empty.', /^“a.mp4” is empty\.$/],
  ])('%o', (e, want) => expect(errorMessage(e)).toMatch(want))

  it('says the limit the server gave in its config', () => {
    serverConfig.current = { ...defaultConfig, max_upload_bytes: 2 * 2 ** 30 }
    serverConfig.fromServer = true
    expect(errorMessage(new ApiError(413, 'file_too_large', 'file too large: the limit is 2 GiB'))).toBe(
      'The file is too large: the limit is 2 GiB.',
    )
  })
})

describe('the API client reads error bodies', () => {
  it.each([
    [{ error: 'video not found', code: 'video_not_found' }, 404, 'video_not_found', 'video not found'],
    [{ error: 'video not found' }, 404, '', 'video not found'],
    ['not json', 502, '', ''],
  ])('%j', async (body, status, code, text) => {
    vi.stubGlobal('fetch', async () => new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }))
    const err = await getVideo('x').catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect([err.status, err.code, err.message]).toEqual([status, code, text])
  })

  it('tells an unreachable server from an aborted request', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('Failed to fetch')
    })
    const err = await listVideos('t').catch((e) => e)
    expect([err.status, err.code]).toEqual([0, 'unreachable'])

    const ctl = new AbortController()
    vi.stubGlobal('fetch', (_: string, init: RequestInit) => {
      ctl.abort()
      return Promise.reject(init.signal!.reason)
    })
    const aborted = await listVideos('t', ctl.signal).catch((e) => e)
    expect(aborted).not.toBeInstanceOf(ApiError)
    expect(aborted.name).toBe('AbortError')
  })
})
