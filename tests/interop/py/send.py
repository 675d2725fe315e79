#!/usr/bin/env python3
"""Tutorial 1, "Hello World!" producer.

usage: send.py URL QUEUE [MESSAGE]      (MESSAGE defaults to "Hello World!")
"""
import sys

import pika

from common import emit

url, queue = sys.argv[1:3]
message = sys.argv[3] if len(sys.argv) > 3 else 'Hello World!'

connection = pika.BlockingConnection(pika.URLParameters(url))
channel = connection.channel()
channel.queue_declare(queue=queue)
channel.basic_publish(exchange='', routing_key=queue, body=message)
emit('sent', queue=queue, body=message)
connection.close()
