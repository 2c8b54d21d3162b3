"""The media library's domain package, shared by every function through a layer."""
