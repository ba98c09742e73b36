// One error shape for every failure: {code, message, details}, with stable codes.
import type { FastifyError, FastifyInstance } from 'fastify';
import { HubError, type ErrorBody } from '../errors.ts';
import { StoreError } from '../store/errors.ts';

export function registerErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HubError | Error, req, reply) => {
    if (err instanceof HubError) {
      return reply.status(err.status).send({ code: err.code, message: err.message, details: err.details } satisfies ErrorBody);
    }
    // PostgreSQL down (or this hub lost the rollout lease mid-request): nothing was done, try again soon.
    if (err instanceof StoreError && (err.code === 'STORE_UNAVAILABLE' || err.code === 'STORE_LEASE_LOST')) {
      return reply
        .status(503)
        .header('retry-after', '5')
        .send({ code: err.code, message: err.message } satisfies ErrorBody);
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const details = fe.validation.map((v) => ({ path: `${fe.validationContext ?? ''}${v.instancePath}`, message: v.message, params: v.params }));
      return reply.status(400).send({ code: 'BAD_REQUEST', message: fe.message, details: { errors: details } } satisfies ErrorBody);
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ code: 'BODY_TOO_LARGE', message: fe.message } satisfies ErrorBody);
    }
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ code: 'BAD_REQUEST', message: fe.message, details: { fastify: fe.code } } satisfies ErrorBody);
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal error (logged at the hub)' } satisfies ErrorBody);
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } satisfies ErrorBody);
  });
}
