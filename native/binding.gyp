{
  "targets": [
    {
      "target_name": "peregrine",
      "sources": ["addon.c"],
      "include_dirs": ["<(module_root_dir)/build/gen", "<(module_root_dir)"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wno-unused-parameter"],
      "libraries": ["-lbpf", "-lelf", "-lz"],
      "actions": [
        {
          "action_name": "bpf_skeleton",
          "inputs": ["peregrine.bpf.c", "peregrine.h", "syscalls.def", "build-bpf.sh"],
          "outputs": ["<(module_root_dir)/build/gen/peregrine.skel.h"],
          "action": ["sh", "<(module_root_dir)/build-bpf.sh", "<(module_root_dir)/build/gen"]
        }
      ]
    }
  ]
}
