#!/usr/bin/env python3
"""Deletes what a test declared, reporting how many messages each deleted queue still held.

usage: cleanup.py URL [queue:NAME | exchange:NAME] ...
"""
import sys

import pika

from common import emit

url = sys.argv[1]

connection = pika.BlockingConnection(pika.URLParameters(url))
for item in sys.argv[2:]:
    kind, name = item.split(':', 1)
    channel = connection.channel()  # a fresh channel each time: an error closes only that one
    try:
        if kind == 'queue':
            ok = channel.queue_delete(queue=name)
            emit('deleted', kind=kind, name=name, message_count=ok.method.message_count)
        else:
            channel.exchange_delete(exchange=name)
            emit('deleted', kind=kind, name=name)
        channel.close()
    except pika.exceptions.ChannelClosed as e:
        emit('error', kind=kind, name=name, reply_code=e.reply_code, reply_text=e.reply_text)
connection.close()
