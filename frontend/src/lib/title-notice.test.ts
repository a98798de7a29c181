import { describe, expect, it } from 'vitest'
import { TitleNotice, transcodeEnd, transcodeNotice, uploadNotice } from './title-notice'

function setup(focused = false) {
  const titles: string[] = []
  const state = { focused }
  const notice = new TitleNotice({ setTitle: (t) => titles.push(t), focused: () => state.focused })
  return { notice, titles, state }
}

describe('TitleNotice', () => {
  it('shows what happened while the window was in the background, until it has the focus again', () => {
    const { notice, titles, state } = setup(false)
    notice.notify(uploadNotice('clip.mp4', 'done'))
    expect(titles).toEqual(['AssetLab — Uploaded: clip.mp4'])
    notice.notify(transcodeNotice('clip.mp4', 'done'))
    expect(titles.at(-1)).toBe('AssetLab — clip.mp4 is ready to watch')
    state.focused = true
    notice.focus()
    expect(titles.at(-1)).toBe('AssetLab')
    // Focus again with nothing shown: the title is left alone.
    notice.focus()
    expect(titles).toHaveLength(3)
  })

  it('leaves the title alone while the window has the focus', () => {
    const { notice, titles } = setup(true)
    notice.notify('Uploaded: clip.mp4')
    notice.focus()
    expect(titles).toEqual([])
  })
})

describe('notices', () => {
  it('words each ending', () => {
    expect(uploadNotice('a.mp4', 'failed')).toBe('Upload failed: a.mp4')
    expect(uploadNotice('a.mp4', 'cancelled')).toBe('')
    expect(transcodeNotice('a.mp4', 'error')).toBe('a.mp4 could not be transcoded')
    expect(transcodeNotice('a.mp4', 'processing')).toBe('')
  })
})

describe('transcodeEnd', () => {
  const noWait = () => Promise.resolve()

  it('asks until the transcode ends, through a lost connection', async () => {
    const answers: (string | Error)[] = ['pending', 'processing', new Error('offline'), 'processing', 'done']
    let asked = 0
    const get = async () => {
      const a = answers[asked++]
      if (a instanceof Error) throw a
      return { status: a }
    }
    expect(await transcodeEnd(get, noWait, () => false)).toBe('done')
    expect(asked).toBe(5)
  })

  it('stops when told, and gives up on a video it cannot reach', async () => {
    let stop = false
    let asked = 0
    const pending = async () => {
      if (++asked === 3) stop = true
      return { status: 'processing' }
    }
    expect(await transcodeEnd(pending, noWait, () => stop)).toBe('')
    expect(asked).toBe(3)
    const gone = async () => {
      throw new Error('404')
    }
    expect(await transcodeEnd(gone, noWait, () => false)).toBe('')
  })
})
