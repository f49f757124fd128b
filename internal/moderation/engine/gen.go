package engine

//go:generate go run ./internal/gen -unihan /usr/share/unicode -o tables_unihan.go
