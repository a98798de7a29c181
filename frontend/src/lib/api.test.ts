import { describe, expect, it } from 'vitest'
import { uploadErrorMessage } from './api'

describe('uploadErrorMessage', () => {
  it.each([
    [0, '', /cannot be reached/],
    [401, 'invalid token', /token was refused/],
    [413, 'file too large: the limit is 1 GiB', /too large.*1 GiB/],
    [415, 'not a supported video file', /MP4, MOV, WebM or MKV/],
    [503, 'storage is unavailable, try again shortly', /storage is unavailable/],
    [500, '', /answered 500/],
  ])('%d', (status, server, want) => expect(uploadErrorMessage(status, server)).toMatch(want))
})
