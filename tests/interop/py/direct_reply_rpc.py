#!/usr/bin/env python3
"""RPC over direct reply-to with pika: the client consumes amq.rabbitmq.reply-to (auto_ack) and
publishes requests with reply_to='amq.rabbitmq.reply-to'; a server on another connection consumes
QUEUE and publishes fib(n) to the default exchange with routing key = the request's reply_to.

usage: direct_reply_rpc.py URL QUEUE TIMEOUT N [N ...]

Prints {"event": "request", "reply_to": ...} per request the server got, {"event": "reply", ...}
per reply the client got, then {"event": "done"}. Exits 1 if a call gets no reply in TIMEOUT s.
"""
import sys
import time
import uuid

import pika

from common import emit

url, queue, timeout = sys.argv[1:4]
numbers = [int(n) for n in sys.argv[4:]]
REPLY_TO = 'amq.rabbitmq.reply-to'


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


server_conn = pika.BlockingConnection(pika.URLParameters(url))
server = server_conn.channel()
server.queue_declare(queue=queue, auto_delete=True)


def on_request(ch, method, props, body):
    n = int(body)
    emit('request', n=n, reply_to=props.reply_to, correlation_id=props.correlation_id)
    ch.basic_publish(exchange='', routing_key=props.reply_to,
                     properties=pika.BasicProperties(correlation_id=props.correlation_id),
                     body=str(fib(n)))
    ch.basic_ack(delivery_tag=method.delivery_tag)


server.basic_consume(queue=queue, on_message_callback=on_request)

client_conn = pika.BlockingConnection(pika.URLParameters(url))
client = client_conn.channel()
replies = {}


def on_reply(ch, method, props, body):
    replies[props.correlation_id] = (method, body)


client.basic_consume(queue=REPLY_TO, on_message_callback=on_reply, auto_ack=True)

for n in numbers:
    corr_id = str(uuid.uuid4())
    client.basic_publish(exchange='', routing_key=queue,
                         properties=pika.BasicProperties(reply_to=REPLY_TO, correlation_id=corr_id),
                         body=str(n))
    deadline = time.monotonic() + float(timeout)
    while corr_id not in replies:
        if time.monotonic() > deadline:
            emit('timeout', n=n)
            sys.exit(1)
        server_conn.process_data_events(time_limit=0.01)
        client_conn.process_data_events(time_limit=0.01)
    method, body = replies[corr_id]
    emit('reply', n=n, result=int(body), correlation_id=corr_id, exchange=method.exchange,
         routing_key=method.routing_key, redelivered=method.redelivered)

server_conn.close()
client_conn.close()
emit('done')
