# Cross-compiling hwslice for riscv64 Linux from an x86_64 Debian (the SDK,
# board/sdk, or any Debian trixie+ with g++-riscv64-linux-gnu and the
# riscv64 -dev packages installed through multiarch).
#
#   cmake -B build/riscv64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=toolchain.cmake
#
# Libraries come from the multiarch directories (/usr/lib/riscv64-linux-gnu),
# the C library from the cross sysroot (/usr/riscv64-linux-gnu). Tests run
# under qemu-riscv64 (user mode) through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(HWSLICE_TRIPLE riscv64-linux-gnu)

set(CMAKE_C_COMPILER ${HWSLICE_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${HWSLICE_TRIPLE}-g++)
set(CMAKE_ASM_COMPILER ${HWSLICE_TRIPLE}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${HWSLICE_TRIPLE})

set(CMAKE_FIND_ROOT_PATH /usr/${HWSLICE_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config must see riscv64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${HWSLICE_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

find_program(HWSLICE_QEMU_RISCV64 qemu-riscv64)
if(HWSLICE_QEMU_RISCV64)
  # -L: the riscv64 dynamic loader and libc; other libraries are found by the
  # loader in the multiarch directories.
  set(CMAKE_CROSSCOMPILING_EMULATOR ${HWSLICE_QEMU_RISCV64} -L /usr/${HWSLICE_TRIPLE})
endif()
