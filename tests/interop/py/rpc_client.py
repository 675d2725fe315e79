#!/usr/bin/env python3
"""Tutorial 6, RPC client: calls fib(n) for each N through an exclusive callback queue.

usage: rpc_client.py URL QUEUE TIMEOUT N [N ...]

Prints {"event": "reply", ...} per call; replies whose correlation_id is not the one awaited are
reported as {"event": "stray", ...}. Exits 1 if a call gets no reply within TIMEOUT seconds.
"""
import sys
import time
import uuid

import pika

from common import emit

url, queue, timeout = sys.argv[1:4]
numbers = [int(n) for n in sys.argv[4:]]


class FibonacciRpcClient:

    def __init__(self):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        result = self.channel.queue_declare(queue='', exclusive=True)
        self.callback_queue = result.method.queue
        self.channel.basic_consume(
            queue=self.callback_queue,
            on_message_callback=self.on_response,
            auto_ack=True,
        )
        self.response = None
        self.corr_id = None

    def on_response(self, ch, method, props, body):
        if self.corr_id == props.correlation_id:
            self.response = body
        else:
            emit('stray', correlation_id=props.correlation_id, body=body.decode('utf-8'))

    def call(self, n):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(
            exchange='',
            routing_key=queue,
            properties=pika.BasicProperties(
                reply_to=self.callback_queue,
                correlation_id=self.corr_id,
            ),
            body=str(n),
        )
        deadline = time.monotonic() + float(timeout)
        while self.response is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                emit('timeout', n=n, correlation_id=self.corr_id)
                sys.exit(1)
            self.connection.process_data_events(time_limit=remaining)
        return int(self.response)


fibonacci_rpc = FibonacciRpcClient()
emit('ready', callback_queue=fibonacci_rpc.callback_queue)
for n in numbers:
    result = fibonacci_rpc.call(n)
    emit('reply', n=n, result=result, correlation_id=fibonacci_rpc.corr_id,
         callback_queue=fibonacci_rpc.callback_queue)
fibonacci_rpc.connection.close()
