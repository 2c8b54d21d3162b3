"""Lambda: drains the processing dead-letter queue.

A message lands there after processing failed on it every time the queue allowed; its item
then ends ``failed`` (``processing_failed``) instead of staying ``processing`` for good.
"""

import json

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from medialib.observability import logger, metrics, tracer
from medialib.services.processing import give_up, landed_objects

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    for landed in landed_objects(json.loads(record.body)):
        outcome = give_up(landed)
        logger.info("Dead letter settled", extra={"outcome": outcome})


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
