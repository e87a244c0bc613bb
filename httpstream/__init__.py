"""The streaming wire of the Kubernetes API (what apimachinery's `util/httpstream` holds).

Shared by the apiserver, the kubelet and the client; imports nothing from them:
- `spdy`: SPDY/3.1 frames and header compression (pure);
- `spdysession`: an asyncio SPDY connection with streams (what `kubectl` and containerd speak
  for exec, attach and port-forward when they do not use WebSockets);
- `channels`: the WebSocket channel protocols (`v5.channel.k8s.io`, `v4.channel.k8s.io`,
  `channel.k8s.io`, the base64 variants) and the port-forward framing (pure);
- `websocket`: a WebSocket over any asyncio stream pair, with a handshake that accepts
  subprotocol names such as `SPDY/3.1+portforward.k8s.io`;
- `hijack`: the uvicorn HTTP protocol that lets an ASGI handler take over the connection of
  an `Upgrade:` request (WebSocket or SPDY);
- `upgrade`: opening an upgraded connection as a client and relaying bytes between two.
"""
