// The app's one upload, wired to the real senders. It lives beside the pages,
// not in one: an upload keeps going, and its progress keeps showing, when the
// person looks at the library meanwhile.
import { uploadVideo } from './api'
import { serverConfig } from './config.svelte'
import { sendPath } from './desktop.svelte'
import { settings } from './settings.svelte'
import { Upload } from './upload.svelte'

export const upload = new Upload({
  sendFile: (file, onProgress) => uploadVideo(file, file.name, settings.token, onProgress),
  sendPath,
  config: () => serverConfig.current,
  token: () => settings.token,
})
