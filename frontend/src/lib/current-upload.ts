// The app's one upload, wired to the real senders. It lives beside the pages,
// not in one: an upload keeps going, and its progress keeps showing, when the
// person looks at the library meanwhile.
import { serverConfig } from './config.svelte'
import { sendPath } from './desktop.svelte'
import { fileSender } from './resumable'
import { settings } from './settings.svelte'
import { Upload } from './upload.svelte'

export const upload = new Upload({
  sendFile: (file, onProgress) => fileSender(serverConfig.current)(file, settings.token, onProgress),
  sendPath,
  config: () => serverConfig.current,
  token: () => settings.token,
})
