{
  "targets": [
    {
      "target_name": "kadscope_udp",
      "sources": ["kadscope_udp.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
