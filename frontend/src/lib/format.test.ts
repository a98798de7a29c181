import { describe, expect, it } from 'vitest'
import { defaultConfig } from './api'
import { checkFile, fileKinds, formatBytes, formatDuration, formatList, parseVideoRef, pendingMessage, Rate } from './format'

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [9.25 * 1024 * 1024, '9.3 MiB'],
    [8 * 1024 * 1024, '8 MiB'],
    [1 << 30, '1 GiB'],
    [1.5 * (1 << 30), '1.5 GiB'],
    [NaN, '–'],
  ])('%d → %s', (n, want) => expect(formatBytes(n)).toBe(want))
})

describe('formatList', () => {
  it.each([
    [['.mp4', '.mov', '.webm', '.mkv'], 'MP4, MOV, WebM or MKV'],
    [['.mp4', '.webm'], 'MP4 or WebM'],
    [['.mp4'], 'MP4'],
  ])('%j → %s', (exts, want) => expect(formatList(exts)).toBe(want))
  it.each([
    [['.mp4', '.mov'], 'an MP4 or MOV file'],
    [['.webm'], 'a WebM file'],
    [['.mkv'], 'an MKV file'],
    [['.ogv'], 'an OGV file'],
    [['.avi'], 'an AVI file'],
    [['.ts'], 'a TS file'],
  ])('%j → %s', (exts, want) => expect(fileKinds(exts)).toBe(want))
})

describe('formatDuration', () => {
  it.each([
    [0, '0:00'],
    [9.6, '0:10'],
    [75, '1:15'],
    [3725, '1:02:05'],
    [NaN, '–'],
  ])('%d → %s', (s, want) => expect(formatDuration(s)).toBe(want))
})

describe('Rate', () => {
  it('measures speed and time left', () => {
    const r = new Rate()
    r.update(0, 1000)
    r.update(1_000_000, 2000)
    expect(r.speed).toBe(1_000_000)
    expect(r.eta(1_000_000, 5_000_000)).toBe(4)
  })
  it('measures from a clock that starts at 0', () => {
    const r = new Rate()
    r.update(0, 0)
    r.update(2048, 1000)
    expect(r.speed).toBe(2048)
  })
  it('does not know the time left before it has two samples', () => {
    const r = new Rate()
    r.update(500, 1000)
    expect(r.eta(500, 1000)).toBeNaN()
  })
})

describe('checkFile', () => {
  const cfg = defaultConfig
  it('accepts videos by type or extension', () => {
    expect(checkFile({ name: 'a.mp4', size: 10, type: 'video/mp4' }, cfg)).toBeNull()
    expect(checkFile({ name: 'clip.MOV', size: 10, type: '' }, cfg)).toBeNull()
    expect(checkFile({ name: 'x.mkv', size: 10, type: 'video/x-matroska' }, cfg)).toBeNull()
  })
  it('refuses other files, empty files and files over the limit', () => {
    expect(checkFile({ name: 'photo.jpg', size: 10, type: 'image/jpeg' }, cfg)).toMatch(/not a video.*MP4, MOV, WebM or MKV/)
    expect(checkFile({ name: 'a.mp4', size: 0, type: 'video/mp4' }, cfg)).toMatch(/empty/)
    expect(checkFile({ name: 'a.mp4', size: (1 << 30) + 1, type: 'video/mp4' }, cfg)).toMatch(/is 1\.0 GiB; the limit is 1 GiB\.$/)
    expect(checkFile({ name: 'a.mp4', size: 1 << 30, type: 'video/mp4' }, cfg)).toBeNull()
  })
  it("follows the server's limit and types", () => {
    const small = { ...cfg, max_upload_bytes: 8 << 20, accepted_types: ['video/webm'], accepted_extensions: ['.webm'] }
    expect(checkFile({ name: 'a.webm', size: 9 << 20, type: 'video/webm' }, small)).toBe('“a.webm” is 9 MiB; the limit is 8 MiB.')
    expect(checkFile({ name: 'a.mp4', size: 10, type: 'video/mp4' }, small)).toMatch(/Choose a WebM file\.$/)
  })
})

describe('parseVideoRef', () => {
  const id = '3f2b8c1e-9d4a-4c7b-8e6f-1a2b3c4d5e6f'
  it.each([
    [id, id],
    [`  ${id.toUpperCase()} `, id],
    [`https://videos.example/watch/${id}`, id],
    [`http://localhost:3000/api/video/${id}/status`, id],
    ['not an id', null],
    ['', null],
  ])('%s', (input, want) => expect(parseVideoRef(input)).toBe(want))
})

describe('pendingMessage', () => {
  it('tells no transcoder from waiting in line', () => {
    expect(pendingMessage('no_worker')).toMatch(/^No transcoder is running: ask the server's admin to start one \(ffmpeg missing\?\)/)
    expect(pendingMessage('in_line')).toMatch(/^Waiting in line for a transcoder…/)
    // An older server sends no hint: not an alarm.
    expect(pendingMessage(undefined)).toMatch(/^Waiting in line/)
  })
  it('promises the original only where it plays', () => {
    expect(pendingMessage('in_line')).toMatch(/The original plays meanwhile\.$/)
    expect(pendingMessage('in_line', false)).toBe('Waiting in line for a transcoder…')
    expect(pendingMessage('no_worker', false)).not.toMatch(/original/)
  })
  it("names what the desktop app's built-in transcoder lacks", () => {
    const problem = 'ffmpeg (ffmpeg) cannot be run: exec: "ffmpeg": executable file not found in $PATH'
    expect(pendingMessage('no_worker', true, problem)).toBe(
      `This app cannot transcode videos: ${problem}. Reinstall AssetLab (its installer ships FFmpeg) or install FFmpeg; the app checks again every minute. The original plays meanwhile.`,
    )
    // Only while no transcoder runs.
    expect(pendingMessage('in_line', true, problem)).toMatch(/^Waiting in line/)
  })
})
