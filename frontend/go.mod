module github.com/assetlab/assetlab/frontend

go 1.26.8
