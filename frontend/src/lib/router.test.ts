import { describe, expect, it } from 'vitest'
import { parseRoute } from './route'

describe('parseRoute', () => {
  it.each([
    ['/', { page: 'upload' }],
    ['/library', { page: 'library' }],
    ['/watch/abc', { page: 'watch', id: 'abc' }],
    ['/watch/abc/', { page: 'watch', id: 'abc' }],
    ['/watch/', { page: 'notfound' }],
    ['/nope', { page: 'notfound' }],
  ])('%s', (path, want) => expect(parseRoute(path)).toEqual(want))
})
