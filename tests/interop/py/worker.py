#!/usr/bin/env python3
"""Tutorial 2, work queue worker: prefetch 1, manual ack, "works" for one
SECONDS_PER_DOT per '.' in the message body.

usage: worker.py URL QUEUE SECONDS_PER_DOT TIMEOUT

Prints {"event": "received", ...} when a task arrives and {"event": "ack", ...} after acking it.
Runs until TIMEOUT seconds have passed (or it is killed).
"""
import sys
import time

import pika

from common import Bounded, delivery, emit

url, queue, seconds_per_dot, timeout = sys.argv[1:5]
seconds_per_dot = float(seconds_per_dot)

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.queue_declare(queue=queue, durable=True)
channel.basic_qos(prefetch_count=1)
bounded = Bounded(connection, channel, 0, timeout)


def callback(ch, method, properties, body):
    emit('received', **delivery(method, properties, body))
    time.sleep(body.count(b'.') * seconds_per_dot)
    ch.basic_ack(delivery_tag=method.delivery_tag)
    emit('ack', body=body.decode('utf-8'))
    bounded.tick()


channel.basic_consume(queue=queue, on_message_callback=callback)
emit('ready', queue=queue)
channel.start_consuming()
bounded.done()
connection.close()
