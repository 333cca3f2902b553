"""hat-juggler server for the volley benchmark.

Serves two requests at ws://HOST:PORT/ws:
  add   {"a": int, "b": int} -> a + b
  count {"n": int}           -> sends n `notify` messages named "item", then answers n
                                (juggler has no server streams; notifications are how a
                                juggler application streams to a client)

Prints "LISTENING HOST:PORT" once it accepts connections, then serves until killed.
"""

import argparse
import asyncio
import os
import resource
import sys

from hat import juggler


async def on_request(conn, name, data):
    if name == 'add':
        return data['a'] + data['b']
    if name == 'count':
        for i in range(data['n']):
            await conn.notify('item', i)
        return data['n']
    raise Exception(f'unknown request {name}')


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--cpu', type=int, default=None)
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    # 10,000 idle connections need as many descriptors.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    server = await juggler.listen(args.host, args.port,
                                  request_cb=on_request,
                                  ws_path='/ws')
    print(f'LISTENING {args.host}:{args.port}', flush=True)
    await server.wait_closing()


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
