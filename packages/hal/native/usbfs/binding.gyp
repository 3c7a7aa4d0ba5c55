# node-gyp build of the Linux usbfs addon (kernel uapi headers only; nothing to build on other OSes).
{
  "targets": [
    {
      "target_name": "usbfs",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["usbfs.c"],
          "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
        }]
      ]
    }
  ]
}
