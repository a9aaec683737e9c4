module github.com/digital-citizenship/functions

go 1.26
