module github.com/assetlab/assetlab/worker

go 1.26.8

require github.com/assetlab/assetlab/server v0.0.0

require github.com/google/uuid v1.6.0 // indirect

replace (
	github.com/assetlab/assetlab/frontend => ../frontend
	github.com/assetlab/assetlab/server => ../server
)
