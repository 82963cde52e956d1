#!/usr/bin/env bash
# record.sh NAME IKE_PROPOSAL ESP_PROPOSAL [rekey]
set -u
NAME=$1; IKE=$2; ESP=$3; REKEY=${4:-}
D=/tmp/rec/$NAME; rm -rf $D; mkdir -p $D/A/run $D/B/run
ip netns add v2A; ip netns add v2B
ip link add v2a netns v2A type veth peer name v2b netns v2B
ip -n v2A addr add 192.0.2.1/24 dev v2a; ip -n v2A link set v2a up; ip -n v2A link set lo up
ip -n v2B addr add 192.0.2.2/24 dev v2b; ip -n v2B link set v2b up; ip -n v2B link set lo up
ip -n v2A addr add 198.51.100.1/32 dev lo; ip -n v2B addr add 203.0.113.1/32 dev lo
for S in A B; do
  if [ $S = A ]; then L=192.0.2.1; R=192.0.2.2; LTS=198.51.100.0/24; RTS=203.0.113.0/24; else L=192.0.2.2; R=192.0.2.1; LTS=203.0.113.0/24; RTS=198.51.100.0/24; fi
cat > $D/$S/strongswan.conf <<EOT
charon {
  load = random nonce openssl aes sha1 sha2 hmac gmp kdf pem pkcs1 x509 pubkey gcm kernel-libipsec kernel-netlink socket-default vici updown
  port = 500
  port_nat_t = 4500
  install_routes = no
  retransmit_tries = 3
  plugins { vici { socket = unix://$D/$S/charon.vici } }
  filelog {
    charon {
      path = $D/$S/charon.log
      time_format = %H:%M:%S
      default = 1
      ike = 4
      cfg = 2
      knl = 1
      net = 2
      enc = 2
      chd = 4
      flush_line = yes
    }
  }
  syslog { daemon { default = -1 } }
}
EOT
cat > $D/$S/swanctl.conf <<EOT
connections {
  v2 {
    version = 2
    local_addrs = $L
    remote_addrs = $R
    proposals = $IKE
    mobike = no
    dpd_delay = 0
    rekey_time = 86400s
    reauth_time = 0
    local { auth = psk
      id = $L }
    remote { auth = psk
      id = $R }
    children {
      net {
        mode = tunnel
        local_ts = $LTS
        remote_ts = $RTS
        esp_proposals = $ESP
        life_time = 3600s
        rekey_time = 3300s
        start_action = none
      }
    }
  }
}
secrets { ike-peer { id-a = 192.0.2.1
    id-b = 192.0.2.2
    secret = "cisco123" } }
EOT
done
ip netns exec v2A dumpcap -q -i v2a -f udp -w $D/$NAME.pcapng >/dev/null 2>&1 & DC=$!
sleep 1
for S in A B; do
  NS=v2$S
  STRONGSWAN_CONF=$D/$S/strongswan.conf ip netns exec $NS unshare -m --propagation private sh -c "mount --bind $D/$S/run /run && exec /usr/lib/ipsec/charon" >/dev/null 2>$D/$S/stderr & echo $! > $D/$S/pid
done
for S in A B; do for i in $(seq 50); do [ -S $D/$S/charon.vici ] && break; sleep 0.1; done
  STRONGSWAN_CONF=$D/$S/strongswan.conf ip netns exec v2$S swanctl --load-all --file $D/$S/swanctl.conf --uri unix://$D/$S/charon.vici >/dev/null; done
SW() { STRONGSWAN_CONF=$D/A/strongswan.conf ip netns exec v2A swanctl "$@" --uri unix://$D/A/charon.vici; }
SW --initiate --child net --timeout 10 > $D/initiate.out 2>&1
if [ -n "$REKEY" ]; then sleep 1; SW --rekey --child net > $D/rekey.out 2>&1; sleep 2; SW --rekey --ike v2 >> $D/rekey.out 2>&1; sleep 2; fi
SW --list-sas > $D/list.out 2>&1
SW --terminate --ike v2 --timeout 5 > $D/term.out 2>&1
sleep 1
for S in A B; do kill $(cat $D/$S/pid); done
sleep 1; kill $DC; sleep 0.5
ip netns delete v2A; ip netns delete v2B
echo done $NAME
