/* 300,000 rounds of open/close/getpid: the per-call cost of the runtime's
 * presence (issue 5: at most 1.10x slower under dmtcp_launch). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
  long sum = 0;
  for (int i = 0; i < 300000; i++) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd < 0) {
      perror("open");
      return 1;
    }
    close(fd);
    sum += getpid();
  }
  return sum == 0;
}
