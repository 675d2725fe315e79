#!/usr/bin/env python3
"""Tutorial 6, RPC server: answers fib(n) requests on a queue, replying to reply_to with the
request's correlation_id.

usage: rpc_server.py URL QUEUE COUNT TIMEOUT
"""
import sys

import pika

from common import Bounded, emit

url, queue, count, timeout = sys.argv[1:5]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.queue_declare(queue=queue)


def fib(n):
    if n == 0:
        return 0
    elif n == 1:
        return 1
    else:
        return fib(n - 1) + fib(n - 2)


def on_request(ch, method, props, body):
    n = int(body)
    response = fib(n)
    ch.basic_publish(
        exchange='',
        routing_key=props.reply_to,
        properties=pika.BasicProperties(correlation_id=props.correlation_id),
        body=str(response),
    )
    ch.basic_ack(delivery_tag=method.delivery_tag)
    emit('request', n=n, result=response, reply_to=props.reply_to,
         correlation_id=props.correlation_id)
    bounded.tick()


channel.basic_qos(prefetch_count=1)
bounded = Bounded(connection, channel, count, timeout)
channel.basic_consume(queue=queue, on_message_callback=on_request)
emit('ready', queue=queue)
channel.start_consuming()
bounded.done()
connection.close()
