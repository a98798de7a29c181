import { describe, expect, it } from 'vitest'
import { checkFile, formatBytes, formatDuration, MAX_UPLOAD_BYTES, parseVideoRef, pendingMessage, Rate } from './format'

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KB'],
    [10 * 1024 * 1024, '10 MB'],
    [MAX_UPLOAD_BYTES, '1.0 GB'],
  ])('%d → %s', (n, want) => expect(formatBytes(n)).toBe(want))
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
  it('does not know the time left before it has two samples', () => {
    const r = new Rate()
    r.update(500, 1000)
    expect(r.eta(500, 1000)).toBeNaN()
  })
})

describe('checkFile', () => {
  it('accepts videos by type or extension', () => {
    expect(checkFile({ name: 'a.mp4', size: 10, type: 'video/mp4' })).toBeNull()
    expect(checkFile({ name: 'clip.MOV', size: 10, type: '' })).toBeNull()
    expect(checkFile({ name: 'x.mkv', size: 10, type: 'video/x-matroska' })).toBeNull()
  })
  it('refuses other files, empty files and files over 1 GB', () => {
    expect(checkFile({ name: 'photo.jpg', size: 10, type: 'image/jpeg' })).toMatch(/not a video/)
    expect(checkFile({ name: 'a.mp4', size: 0, type: 'video/mp4' })).toMatch(/empty/)
    expect(checkFile({ name: 'a.mp4', size: MAX_UPLOAD_BYTES + 1, type: 'video/mp4' })).toMatch(/limit is 1 GB/)
    expect(checkFile({ name: 'a.mp4', size: MAX_UPLOAD_BYTES, type: 'video/mp4' })).toBeNull()
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
})
