/** A Java program for the corpus: a counter with a checked shadow, and a thread. */
public final class Counter {
  private static volatile long heartbeat;

  public static void main(String[] args) throws InterruptedException {
    Thread beat = new Thread(() -> {
      while (true) {
        heartbeat++;
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    beat.setDaemon(true);
    beat.start();
    long n = 0;
    long shadow = ~0L;
    while (true) {
      if (shadow != ~n) {
        System.out.println("ERROR counter and its shadow differ");
        System.exit(1);
      }
      System.out.println("PROGRESS " + n);
      System.out.flush();
      n++;
      shadow = ~n;
      Thread.sleep(100);
    }
  }
}
