import { describe, expect, it } from 'vitest'
import type { Rendition, Video } from './api'
import {
  autoLabel,
  Backoff,
  defaultPlan,
  defaultRendition,
  expectsVideo,
  formatBitrate,
  hlsConfig,
  hlsEngine,
  levelNames,
  MEDIA_ERR_ABORTED,
  MEDIA_ERR_DECODE,
  MEDIA_ERR_NETWORK,
  MEDIA_ERR_SRC_NOT_SUPPORTED,
  menuOptions,
  nextPlan,
  type Plan,
  processingMessage,
  qualityName,
  streamCovers,
  undecodableMessage,
  verdictBeforeLoad,
  verdictOnError,
  verdictOnMetadata,
} from './playback'

const hls1 = 'http://h/api/videos/v/hls/1/master.m3u8'
const hls2 = 'http://h/api/videos/v/hls/2/master.m3u8'

function rendition(quality: string, width: number, height: number): Rendition {
  return { quality, width, height, size: 1, url: `http://h/files/${quality}.mp4` }
}

function video(over: Partial<Video> = {}): Video {
  return {
    id: 'v',
    status: 'processing',
    content_type: 'video/mp4',
    size: 1,
    created_at: '2024-01-01T00:00:00Z',
    original_url: 'http://h/files/original',
    renditions: [],
    urls_expire_at: '2024-01-01T00:01:00Z',
    ...over,
  }
}

const r360 = rendition('360p', 640, 360)
const r720 = rendition('720p', 1280, 720)
const r1080 = rendition('1080p', 1920, 1080)

describe('qualityName', () => {
  it.each([
    [1280, 720, '720p'],
    [1920, 1080, '1080p'],
    [1080, 1920, '1080p'], // portrait: the short side, as the server names it
    [640, 360, '360p'],
    [0, 480, '480p'],
    [0, 0, ''],
    [NaN, NaN, ''],
  ])('%dx%d → %j', (w, h, want) => expect(qualityName(w, h)).toBe(want))
})

describe('formatBitrate', () => {
  it.each([
    [2_500_000, '2.5 Mb/s'],
    [3_000_000, '3 Mb/s'],
    [800_000, '800 kb/s'],
    [0, ''],
  ])('%d → %j', (bps, want) => expect(formatBitrate(bps)).toBe(want))
})

describe('levelNames', () => {
  it.each([
    ['each by its short side', [[640, 360, 8e5], [1280, 720, 25e5]], ['360p', '720p']],
    ['portrait', [[360, 640, 8e5], [1080, 1920, 5e6]], ['360p', '1080p']],
    ['a shared name takes the bitrate', [[1280, 720, 25e5], [1280, 720, 4e6]], ['720p, 2.5 Mb/s', '720p, 4 Mb/s']],
    ['unknown size: the bitrate', [[0, 0, 8e5]], ['800 kb/s']],
    ['nothing known', [[0, 0, 0]], ['Level 1']],
    ['all equal: numbered', [[640, 360, 8e5], [640, 360, 8e5]], ['360p, 800 kb/s (1)', '360p, 800 kb/s (2)']],
  ] as const)('%s', (_, levels, want) => {
    const got = levelNames(levels.map(([width, height, bitrate]) => ({ width, height, bitrate })))
    expect(got).toEqual(want)
  })
})

describe('autoLabel', () => {
  it('names the level Auto plays', () => {
    expect(autoLabel('720p')).toBe('Auto (720p)')
    expect(autoLabel('')).toBe('Auto')
    expect(autoLabel(undefined)).toBe('Auto')
  })
})

describe('hlsEngine', () => {
  it.each([
    [true, 'maybe', 'hlsjs'], // Chromium claims HLS too: hls.js still, for the quality menu
    [true, '', 'hlsjs'],
    [false, 'maybe', 'native'], // iPhone Safari: no MediaSource
    [false, 'probably', 'native'],
    [false, '', null],
  ] as const)('hls.js supported %s, native %j → %s', (supported, native, want) => expect(hlsEngine(supported, native)).toBe(want))
})

describe('defaultRendition', () => {
  it.each([
    ['720p among three', [r360, r1080, r720], '720p'],
    ['the largest up to 720p', [r360], '360p'],
    ['only larger ones: the smallest', [r1080, rendition('1440p', 2560, 1440)], '1080p'],
    ['portrait, by its short side', [rendition('720p', 720, 1280), rendition('1080p', 1080, 1920)], '720p'],
    ['no size: by its name', [rendition('480p', 0, 0), rendition('1080p', 0, 0)], '480p'],
  ] as const)('%s', (_, rs, want) => expect(defaultRendition([...rs])?.quality).toBe(want))
  it('none', () => expect(defaultRendition([])).toBeUndefined())
})

describe('defaultPlan', () => {
  it.each<[string, Partial<Video>, boolean, boolean, Plan]>([
    ['the stream when there is one', { hls_url: hls1, renditions: [r360, r720] }, true, false, { kind: 'hls', url: hls1 }],
    ['the stream while transcoding', { hls_url: hls1 }, true, true, { kind: 'hls', url: hls1 }],
    ['no HLS in this browser: a rendition', { hls_url: hls1, renditions: [r360, r720] }, false, false, { kind: 'file', quality: '720p' }],
    ['transcoded before HLS: a rendition, not the original', { status: 'done', renditions: [r360, r720, r1080] }, true, false, { kind: 'file', quality: '720p' }],
    ['nothing yet: the original', { status: 'pending' }, true, false, { kind: 'file', quality: 'original' }],
    ['nothing yet, original undecodable: nothing', { status: 'processing' }, true, true, { kind: 'none' }],
    ['transcode failed: the original', { status: 'error' }, true, false, { kind: 'file', quality: 'original' }],
    ['no HLS here, transcoding, undecodable: nothing', { hls_url: hls1 }, false, true, { kind: 'none' }],
  ])('%s', (_, over, hlsUsable, undecodable, want) => expect(defaultPlan(video(over), hlsUsable, undecodable)).toEqual(want))
})

describe('nextPlan', () => {
  const ctx = { hlsUsable: true, originalUndecodable: false, started: false }
  it.each<[string, Plan, Partial<Video>, Partial<typeof ctx>, Plan | null]>([
    ['the same stream: keep on (EVENT becomes VOD by itself)', { kind: 'hls', url: hls1 }, { status: 'done', hls_url: hls1, renditions: [r360] }, {}, null],
    ['another attempt took over: restart on it', { kind: 'hls', url: hls1 }, { hls_url: hls2 }, {}, { kind: 'hls', url: hls2 }],
    ['the stream is gone: the original', { kind: 'hls', url: hls1 }, { status: 'error' }, {}, { kind: 'file', quality: 'original' }],
    ['original not started, the stream appears: switch', { kind: 'file', quality: 'original' }, { hls_url: hls1 }, {}, { kind: 'hls', url: hls1 }],
    ['original playing, the stream appears: keep on', { kind: 'file', quality: 'original' }, { hls_url: hls1 }, { started: true }, null],
    ['original undecodable and started (its sound): switch', { kind: 'file', quality: 'original' }, { hls_url: hls1 }, { started: true, originalUndecodable: true }, { kind: 'hls', url: hls1 }],
    ['nothing playable, the stream appears: switch', { kind: 'none' }, { hls_url: hls1 }, { originalUndecodable: true }, { kind: 'hls', url: hls1 }],
    ['nothing playable, still nothing: keep waiting', { kind: 'none' }, { status: 'processing' }, { originalUndecodable: true }, null],
    ['a chosen rendition stays', { kind: 'file', quality: '360p' }, { status: 'done', hls_url: hls1, renditions: [r360, r720] }, {}, null],
    ['the original, nothing new: keep on', { kind: 'file', quality: 'original' }, { status: 'pending' }, {}, null],
  ])('%s', (_, current, over, c, want) => expect(nextPlan(current, video(over), { ...ctx, ...c })).toEqual(want))
})

describe('menuOptions', () => {
  const ctx = { levels: ['360p', '720p'], autoPlaying: '720p', originalUndecodable: false, hlsUsable: true }
  const values = (o: { value: string }[]) => o.map((x) => x.value)
  it('hls.js: Auto (what it plays), then each level', () => {
    const got = menuOptions({ kind: 'hls', url: hls1 }, 'hlsjs', video({ hls_url: hls1 }), ctx)
    expect(got).toEqual([
      { value: 'auto', label: 'Auto (720p)' },
      { value: '360p', label: '360p' },
      { value: '720p', label: '720p' },
    ])
  })
  it('native HLS: Auto, and the renditions once done', () => {
    const v = video({ status: 'done', hls_url: hls1, renditions: [r720, r360] })
    expect(values(menuOptions({ kind: 'hls', url: hls1 }, 'native', v, ctx))).toEqual(['auto', '360p', '720p', 'original'])
  })
  it('transcoded before HLS: the renditions and the original', () => {
    const v = video({ status: 'done', renditions: [r360, r720] })
    expect(values(menuOptions({ kind: 'file', quality: '720p' }, undefined, v, ctx))).toEqual(['360p', '720p', 'original'])
  })
  it('an original this browser cannot decode is not offered', () => {
    const v = video({ status: 'done', renditions: [r360] })
    expect(values(menuOptions({ kind: 'file', quality: '360p' }, undefined, v, { ...ctx, originalUndecodable: true }))).toEqual(['360p'])
  })
  it('the original playing, the stream there: the stream is offered', () => {
    const v = video({ hls_url: hls1 })
    expect(values(menuOptions({ kind: 'file', quality: 'original' }, 'hlsjs', v, ctx))).toEqual(['auto', 'original'])
  })
})

describe('undecodable original', () => {
  it.each([
    ['video/mp4', 'maybe', 'try'],
    ['video/x-msvideo', '', 'cannot'],
    ['video/x-matroska', '', 'cannot'],
    // Chromium answers "" for QuickTime yet plays H.264 .mov files: judged once loaded.
    ['video/quicktime', '', 'try'],
    ['Video/QuickTime; codecs=x', '', 'try'],
  ])('before loading %s (canPlayType %j): %s', (type, answer, want) => expect(verdictBeforeLoad(type, answer)).toBe(want))

  it.each([
    [1920, true, 'plays'],
    [0, true, 'cannot'], // HEVC in Chromium: sound, no picture, no error
    [0, false, 'plays'], // a file without a picture
  ] as const)('metadata: videoWidth %d, has video %s → %s', (w, has, want) => expect(verdictOnMetadata(w, has)).toBe(want))

  it.each([
    ['aborted', MEDIA_ERR_ABORTED, { isOriginal: true, hadMetadata: false, renewed: false }, 'ignore'],
    ['no error', undefined, { isOriginal: true, hadMetadata: false, renewed: false }, 'ignore'],
    ['a rendition: renew', MEDIA_ERR_SRC_NOT_SUPPORTED, { isOriginal: false, hadMetadata: false, renewed: true }, 'renew'],
    ['network: renew', MEDIA_ERR_NETWORK, { isOriginal: true, hadMetadata: false, renewed: true }, 'renew'],
    ['unsupported, first try: maybe an expired link', MEDIA_ERR_SRC_NOT_SUPPORTED, { isOriginal: true, hadMetadata: false, renewed: false }, 'renew'],
    ['unsupported on a renewed link: cannot', MEDIA_ERR_SRC_NOT_SUPPORTED, { isOriginal: true, hadMetadata: false, renewed: true }, 'cannot'],
    ['unsupported after it played: a link', MEDIA_ERR_SRC_NOT_SUPPORTED, { isOriginal: true, hadMetadata: true, renewed: true }, 'renew'],
    ['decode error: cannot', MEDIA_ERR_DECODE, { isOriginal: true, hadMetadata: true, renewed: false }, 'cannot'],
  ] as const)('error, %s', (_, code, ctx, want) => expect(verdictOnError(code, ctx)).toBe(want))

  it.each([
    ['processing', { status: 'processing', progress: 35 }, "This browser can't play the original file's video format. A playable version is being made: 35%…"],
    ['pending', { status: 'pending' }, /will be made when a transcoder takes the video\.$/],
    ['failed', { status: 'error' }, /making a playable version failed\. Download the original/],
  ] as const)('message while %s', (_, over, want) => expect(undecodableMessage(video(over as Partial<Video>))).toMatch(want))

  it.each([
    ['processing', { status: 'processing' }, true],
    ['done with a size', { status: 'done', width: 640 }, true],
    ['done without a picture', { status: 'done' }, false],
  ] as const)('expectsVideo %s', (_, over, want) => expect(expectsVideo(video(over as Partial<Video>))).toBe(want))
})

describe('processingMessage', () => {
  it.each([
    ['no stream', { progress: 35 }, 'Making other qualities… 35%'],
    ['stream, nothing playable yet', { progress: 5, hls_url: hls1 }, 'Transcoding… 5%'],
    ['stream', { progress: 35, hls_url: hls1, playable_seconds: 72.4 }, 'Transcoding… 35%. The first 1:12 can be watched now; the rest follows as it is made.'],
  ] as const)('%s', (_, over, want) => expect(processingMessage(video(over))).toBe(want))
})

describe('Backoff', () => {
  it('doubles up to its cap, gives up after its tries, starts over on reset', () => {
    const b = new Backoff(500, 4000, 6)
    const got = Array.from({ length: 7 }, () => b.next())
    expect(got).toEqual([500, 1000, 2000, 4000, 4000, 4000, null])
    expect(b.failures).toBe(6)
    b.reset()
    expect(b.next()).toBe(500)
  })
  it('never retries at once', () => {
    const b = new Backoff()
    for (let d = b.next(); d !== null; d = b.next()) expect(d).toBeGreaterThanOrEqual(500)
  })
})

describe('hlsConfig', () => {
  it('starts at the beginning, not at the live edge of a playlist still being written', () => {
    expect(hlsConfig(0).startPosition).toBe(0)
    expect(hlsConfig(-1).startPosition).toBe(0)
  })
  it('a restart resumes where it was', () => expect(hlsConfig(42.5).startPosition).toBe(42.5))
  it('takes the VOD playlist whose segment URIs replace the EVENT ones', () => expect(hlsConfig(0).ignorePlaylistParsingErrors).toBe(true))
})

describe('streamCovers', () => {
  it.each([
    ['done: all of it', { status: 'done', playable_seconds: 120 }, 500, true],
    ['transcoding, ahead of the position', { playable_seconds: 40 }, 30, true],
    ['transcoding, behind the position', { playable_seconds: 4 }, 5.3, false],
    ['transcoding, just at it', { playable_seconds: 6 }, 5.5, false],
    ['the start, first segments out', { playable_seconds: 2 }, 0, true],
    ['nothing yet', {}, 0, false],
  ] as const)('%s', (_, over, time, want) => expect(streamCovers(video(over as Partial<Video>), time)).toBe(want))
})
