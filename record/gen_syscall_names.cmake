# Generates syscall_names.inc from the riscv64 kernel header asm/unistd_64.h:
# one "HWSLICE_SYSCALL(name, number)" line per syscall. The numbering is the
# kernel's own data (generic table plus riscv 244-259), never typed by hand.
#   cmake -DIN=.../asm/unistd_64.h -DOUT=.../syscall_names.inc -P gen_syscall_names.cmake
file(STRINGS "${IN}" lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+$")
set(body "// Generated from ${IN} by record/gen_syscall_names.cmake.\n")
set(count 0)
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^#define __NR_([a-z0-9_]+) ([0-9]+)$" "HWSLICE_SYSCALL(\\1, \\2)\n" entry "${line}")
  string(APPEND body "${entry}")
  math(EXPR count "${count} + 1")
endforeach()
if(count LESS 250)
  message(FATAL_ERROR "only ${count} syscalls found in ${IN}")
endif()
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
