# AssetLab. `make run` builds everything and starts the server on the embedded
# default; `make test` runs every test. Each target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := build

export PATH := /usr/local/go/bin:$(PATH)
TOOLS := $(CURDIR)/.tools/bin
VERSITYGW := $(TOOLS)/versitygw
export VERSITYGW
WAILS := $(TOOLS)/wails
# The version stamped into the desktop app and its packages: `git describe`
# (v1.2.3, v1.2.3-4-gabc1234, a bare commit before the first tag; -dirty
# with uncommitted changes), "dev" outside a checkout; `make VERSION=1.2.3`
# sets another. VERSION_NUMERIC is its x.y.z, for what takes only numbers
# (Windows' version resources), 0.0.0 before the first tag.
VERSION := $(or $(shell git describe --tags --always --dirty 2>/dev/null),dev)
VERSION_NUMERIC := $(or $(shell echo '$(VERSION)' | sed -nE 's/^v?([0-9]+\.[0-9]+\.[0-9]+).*/\1/p'),0.0.0)
DESKTOP_LDFLAGS := -X github.com/assetlab/assetlab/desktop.Version=$(VERSION)
GO_PKGS := ./server/... ./worker/... ./frontend/...
FRONTEND_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts frontend/package.json

.PHONY: build run desktop desktop-windows test test-go test-fuzz test-frontend test-e2e test-desktop deps deps-apt deps-desktop deps-go bench-upload bench-upload-concurrent bench-resumable bench-transcode bench-playback bench-desktop-upload clean

.PHONY: deps-windows package-windows test-windows-installer package-macos test-bundled-ffmpeg

## Dependencies ---------------------------------------------------------------

# Debian packages, installed only when missing.
APT_PACKAGES := ffmpeg chromium
deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# What the desktop app builds and runs with: WebKitGTK 4.1, GStreamer's
# decoders (the webview plays H.264 through them), and Xvfb, xdotool, a
# GTK drag source (python3-gi), a D-Bus session bus (dbus-daemon, for the
# single-instance lock) and xclip (the clipboard) for its tests.
DESKTOP_APT_PACKAGES := libgtk-3-dev libwebkit2gtk-4.1-dev gstreamer1.0-libav gstreamer1.0-plugins-good xvfb xdotool curl python3-gi gir1.2-gtk-3.0 dbus-daemon xclip
deps-desktop:
	@missing=""; for p in $(DESKTOP_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# What the Windows installer is made and checked with.
WINDOWS_APT_PACKAGES := nsis p7zip-full
deps-windows:
	@missing=""; for p in $(WINDOWS_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# FFmpeg and FFprobe for the installers: static GPLv3 builds from the npm
# registry (build/FFmpeg-NOTICE.txt), fetched once into .tools/ffmpeg/<os-cpu>/
# with the GPL's text. linux-x64 is the Windows build's twin (FFmpeg's git
# master of December 2018), for test-bundled-ffmpeg.
FFMPEG_DIR := $(CURDIR)/.tools/ffmpeg
FFMPEG_NPM_win32-x64 := @ffmpeg-installer/win32-x64@4.1.0 @ffprobe-installer/win32-x64@5.1.0
FFMPEG_NPM_darwin-x64 := @ffmpeg-installer/darwin-x64@4.1.0 @ffprobe-installer/darwin-x64@5.1.0
FFMPEG_NPM_linux-x64 := @ffmpeg-installer/linux-x64@4.1.0 @ffprobe-installer/linux-x64@5.2.0
$(FFMPEG_DIR)/%/.fetched:
	rm -rf $(@D) && mkdir -p $(@D)/npm
	cd $(@D)/npm && for p in $(FFMPEG_NPM_$*); do npm pack --silent "$$p" >/dev/null || exit 1; done
	for t in $(@D)/npm/*.tgz; do tar -xzf "$$t" -C $(@D)/npm && mv $(@D)/npm/package/ff* $(@D)/ && rm -rf $(@D)/npm/package || exit 1; done
	chmod +x $(@D)/ff*
	cp /usr/share/common-licenses/GPL-3 $(@D)/COPYING.GPLv3 2>/dev/null || curl -fsSL https://www.gnu.org/licenses/gpl-3.0.txt -o $(@D)/COPYING.GPLv3
	rm -rf $(@D)/npm
	@touch $@

$(WAILS):
	GOBIN=$(TOOLS) go install github.com/wailsapp/wails/v2/cmd/wails@v2.15.0

deps-go:
	@command -v go >/dev/null || { echo "Go is required (/usr/local/go)"; exit 1; }
	go mod download

$(VERSITYGW):
	GOBIN=$(TOOLS) go install github.com/versity/versitygw/cmd/versitygw@v1.8.0

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SRC)
	cd frontend && npm run build
	@touch $@

deps: deps-apt deps-go frontend/node_modules/.package-lock.json

## Build and run --------------------------------------------------------------

build: deps frontend/dist/index.html
	go build -trimpath -o bin/assetlab-server ./server/cmd/assetlab-server
	go build -trimpath -o bin/assetlab-worker ./worker/cmd/assetlab-worker

run: build
	./bin/assetlab-server

# The desktop app: build/bin/assetlab-desktop (Linux, WebKitGTK 4.1) and
# build/bin/assetlab-desktop.exe (Windows amd64, cross-built, no cgo).
desktop: deps deps-desktop $(WAILS) frontend/dist/index.html
	$(WAILS) build -tags webkit2_41 -s -ldflags "$(DESKTOP_LDFLAGS)" -o assetlab-desktop

desktop-windows: deps $(WAILS) frontend/dist/index.html
	$(WAILS) build -platform windows/amd64 -s -ldflags "$(DESKTOP_LDFLAGS)" -o assetlab-desktop.exe

## Installers -------------------------------------------------------------------

# The Windows installer, build/bin/AssetLab-amd64-installer.exe (NSIS, from
# build/windows/installer/project.nsi): the app, ffmpeg.exe and ffprobe.exe
# beside it, the WebView2 bootstrapper, a Start-menu entry, an uninstaller.
package-windows: deps deps-windows $(WAILS) frontend/dist/index.html $(FFMPEG_DIR)/win32-x64/.fetched
	$(WAILS) build -platform windows/amd64 -nsis -s -o assetlab-desktop.exe
	@ls -l build/bin/AssetLab-amd64-installer.exe

# The installer is a Windows program and holds the app and FFmpeg.
test-windows-installer: package-windows
	ASSETLAB_WINDOWS_INSTALLER=$(CURDIR)/build/bin/AssetLab-amd64-installer.exe go test -tags webkit2_41 -count=1 -run '^TestWindowsInstaller$$' -v ./desktop/

# The macOS app, on a Mac with Xcode's command line tools only: a universal
# build/bin/AssetLab.app with FFmpeg and FFprobe (x86_64 builds, which run
# under Rosetta 2 on Apple silicon) in Contents/Resources, in
# build/bin/AssetLab.dmg.
package-macos:
	@if [ "$$(uname -s)" != Darwin ]; then echo "package-macos: the macOS app is built on macOS only (Wails needs the macOS SDK, the .dmg needs hdiutil); this machine runs $$(uname -s)" >&2; exit 1; fi
	$(MAKE) deps-go $(WAILS) frontend/dist/index.html $(FFMPEG_DIR)/darwin-x64/.fetched
	$(WAILS) build -platform darwin/universal -s
	cp $(FFMPEG_DIR)/darwin-x64/ffmpeg $(FFMPEG_DIR)/darwin-x64/ffprobe build/FFmpeg-NOTICE.txt build/bin/AssetLab.app/Contents/Resources/
	cp $(FFMPEG_DIR)/darwin-x64/COPYING.GPLv3 build/bin/AssetLab.app/Contents/Resources/FFmpeg-COPYING.GPLv3.txt
	codesign --force --deep --sign - build/bin/AssetLab.app
	rm -rf build/bin/dmg && mkdir build/bin/dmg && cp -R build/bin/AssetLab.app build/bin/dmg/ && ln -s /Applications build/bin/dmg/Applications
	hdiutil create -volname AssetLab -srcfolder build/bin/dmg -ov -format UDZO build/bin/AssetLab.dmg
	rm -rf build/bin/dmg

## Tests ------------------------------------------------------------------------

test: deps $(VERSITYGW) frontend/dist/index.html
	$(MAKE) test-go test-fuzz test-frontend test-e2e test-desktop

test-go:
	go vet $(GO_PKGS)
	go test -count=1 -p 1 -timeout 15m $(GO_PKGS)

# The container sniff and the upload form parser, fed arbitrary input for a
# few seconds each: no panic, no 5xx, nothing left behind by a refused upload.
# The budgets are counts of inputs (about 5 s each here), not durations: Go
# 1.26's fuzzer can report its own end of a -fuzztime duration as a failure,
# "context deadline exceeded" (golang/go#75804, fixed in Go 1.27).
test-fuzz:
	go test -run '^$$' -fuzz '^FuzzSniff$$' -fuzztime 250000x ./server/video/
	go test -run '^$$' -fuzz '^FuzzUploadForm$$' -fuzztime 5000x ./server/api/

# The admin token must never be built into the web UI: build it with a token
# in the environment and look for it in the output.
test-frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm run check && npm test
	cd frontend && ADMIN_TOKEN=canary-7f3a9c VITE_ADMIN_TOKEN=canary-7f3a9c npm run build >/dev/null
	@if grep -rq canary-7f3a9c frontend/dist; then echo "FAIL: the admin token leaked into the web UI bundle"; exit 1; fi
	@echo "ok  	web UI bundle holds no admin token"

# The web UI end to end in headless Chromium, against the real server binary
# (screenshots in test-artifacts/e2e/).
test-e2e: build
	cd frontend && npm run e2e

# The desktop app: its Go uploader and bound methods against real servers, the
# Linux app in a real window under Xvfb (screenshot in test-artifacts/desktop/),
# and the Windows cross-build.
test-desktop: desktop desktop-windows
	go vet -tags webkit2_41 ./desktop/... .
	ASSETLAB_DESKTOP_BIN=$(CURDIR)/build/bin/assetlab-desktop go test -tags webkit2_41 -count=1 -p 1 -timeout 10m ./desktop/...
	@head -c 2 build/bin/assetlab-desktop.exe | grep -q MZ && echo "ok  	build/bin/assetlab-desktop.exe is a Windows executable"
	$(MAKE) test-package-linux

# The worker's transcode tests with the FFmpeg the installers ship (its
# Linux build of the same git master, FFmpeg of December 2018) instead of
# Debian's 5.1.
test-bundled-ffmpeg: deps $(VERSITYGW) frontend/dist/index.html $(FFMPEG_DIR)/linux-x64/.fetched
	ASSETLAB_FFMPEG=$(FFMPEG_DIR)/linux-x64/ffmpeg ASSETLAB_FFPROBE=$(FFMPEG_DIR)/linux-x64/ffprobe \
		go test -count=1 -p 1 -timeout 20m ./worker/transcode/ ./worker/

## Benchmarks -----------------------------------------------------------------

# 1 GiB through POST /api/upload against a direct aws-sdk-go-v2 multipart
# upload, on one versitygw; and the server's peak RSS.
bench-upload: deps $(VERSITYGW) frontend/dist/index.html
	go test -count=1 -run '^$$' -bench BenchmarkUpload1GiB -benchtime 1x -timeout 20m ./server/app/

# 60 uploads of 50 MiB at once to the real server binary on versitygw, against
# the same one at a time: throughput, the server's peak RSS against its upload
# memory budget, and every stored object checked by SHA-256.
bench-upload-concurrent: deps $(VERSITYGW) frontend/dist/index.html
	go test -count=1 -run '^$$' -bench BenchmarkUploadConcurrent -benchtime 1x -timeout 30m ./server/app/

# 1 GiB through the tus endpoint (PATCHes of 64 MiB; BENCH_TUS_CHUNK_MIB
# sets another size) against POST /api/upload, alternating, on the real
# server binary and one versitygw: the throughput ratio, the server's peak
# RSS in each and its temp folder at its fullest.
bench-resumable: deps $(VERSITYGW) frontend/dist/index.html
	go test -count=1 -run '^$$' -bench BenchmarkResumable1GiB -benchtime 1x -timeout 30m ./server/app/

# The full ladder of one generated 1080p clip: this worker end to end, the
# same pass to HLS and to plain MP4 files (what segmenting costs), and the
# reference three-pass recipe (ultrafast, one thread, CRF 22); wall and CPU
# time, bytes and SSIM.
bench-transcode: deps $(VERSITYGW)
	go test -count=1 -run '^$$' -bench BenchmarkTranscodeLadder -benchtime 1x -timeout 30m ./worker/

# How soon an upload plays as HLS: from the upload's 201 to the first frame in
# headless Chromium, with a minimal hls.js page and with the web UI's watch
# page, for 1080p clips of 10 s, 2 and 10 min (BENCH_LENGTHS, BENCH_RUNS), with
# where the time goes; the ladder's segmenting overhead (the benchmark above);
# and the rungs hls.js plays on a 1.5 Mbit/s link and on an open one. Report
# in test-artifacts/bench/playback.txt.
bench-playback: build $(VERSITYGW)
	cd frontend && npm run bench:playback

# 1 GiB uploaded by the desktop app's Go uploader against curl -F, to one
# server: throughput and peak RSS of each.
bench-desktop-upload: build deps-desktop
	go test -count=1 -run '^$$' -bench BenchmarkUpload1GiBVsCurl -benchtime 1x -timeout 20m ./desktop/upload/

## Linux package -------------------------------------------------------------

.PHONY: package-linux test-package-linux deps-package-linux

deps-package-linux:
	@dpkg -s desktop-file-utils >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq desktop-file-utils >/dev/null; }

# build/bin/assetlab-desktop_<version>_<arch>.deb (desktop/deb, packed by
# dpkg-deb): the app in /usr/bin, its menu entry (it opens MP4, MOV, WebM and
# MKV files) and hicolor icons made from build/appicon.png, depending on
# WebKitGTK 4.1, GStreamer's H.264 decoders and FFmpeg. Files are dated to
# the last commit, so the same binary gives the same package.
package-linux: desktop deps-package-linux
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) go run ./desktop/cmd/assetlab-deb -version '$(VERSION)' -binary build/bin/assetlab-desktop -out build/bin

# The package checked (desktop-file-validate, dependencies, same bytes twice),
# then installed on this machine with apt, started from its menu entry under
# Xvfb and purged (as root only; the test says why it skips otherwise).
test-package-linux: package-linux
	go test -count=1 ./build/ ./desktop/deb/
	ASSETLAB_DEB=$(CURDIR)/$$(ls -t build/bin/assetlab-desktop_*.deb | head -1) go test -tags webkit2_41 -count=1 -timeout 5m -run '^TestDebInstallRunRemove$$' -v ./desktop/

clean:
	rm -rf bin build/bin frontend/dist
