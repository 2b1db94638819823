/* Two nodes whose mutexes are initialised at one call site, nested parent then child. One class
   per instance (default): fine. One class per call site (preload_classes=callsite): the same
   class taken twice, reported as recursive locking, as the kernel would without lock_nested. */
#include "lock_helpers.h"

struct node {
  pthread_mutex_t mutex;
};

static void node_init(struct node* node) {
  CHECKED(pthread_mutex_init(&node->mutex, NULL));
}

int main(void) {
  struct node parent, child;
  node_init(&parent);
  node_init(&child);
  lock_unlock_2(&parent.mutex, &child.mutex);
  return 0;
}
