/* The library the dlopen program loads: a little state machine of its own. */
static long state = 7;

long plugin_step(void) {
  state = (state * 48271) % 2147483647;
  return state;
}
