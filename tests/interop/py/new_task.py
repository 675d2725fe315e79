#!/usr/bin/env python3
"""Tutorial 2, work queue producer: persistent messages on a durable queue.

usage: new_task.py URL QUEUE MESSAGE [MESSAGE ...]    (one message per argument)
"""
import sys

import pika

from common import emit

url, queue = sys.argv[1:3]
messages = sys.argv[3:]

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.queue_declare(queue=queue, durable=True)
for message in messages:
    channel.basic_publish(
        exchange='',
        routing_key=queue,
        body=message,
        properties=pika.BasicProperties(delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE),
    )
    emit('sent', queue=queue, body=message)
connection.close()
