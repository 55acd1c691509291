import type { RestAccess, RestParameter, RestRoute, StreamRoute } from '../rest/route.js';
import { errorResponses } from './error-responses.js';
import { toJsonSchema } from './json-schema.js';
import type { OperationObject, ParameterObject, ResponseObject } from './types.js';

export const BEARER_SCHEME = 'bearerAuth';

/**
 * A bearer token is needed only where authorization is configured, so the empty requirement
 * stands beside it: tools may call without one against a development server.
 */
function security(access: RestAccess): Array<Record<string, string[]>> {
  return access === 'public' ? [] : [{ [BEARER_SCHEME]: [] }, {}];
}

const accessNote: Record<RestAccess, string> = {
  workspace: '\n\nAuthorization (when configured): a bearer token whose workspaces claim lists `workspaceId`.',
  admin: '\n\nAuthorization (when configured): a bearer token with the admin role.',
  workspaceAdmin: '\n\nAuthorization (when configured): a bearer token with the admin role whose workspaces claim lists `workspaceId`.',
  public: '',
};

function toParameter(parameter: RestParameter): ParameterObject {
  return {
    name: parameter.name,
    in: parameter.in,
    required: parameter.required,
    description: parameter.description,
    schema: toJsonSchema(parameter.schema, 'input'),
    ...(parameter.example === undefined ? {} : { example: parameter.example }),
  };
}

/** 200 with the whole object and 206 with one range; both stream bytes of the object's own type. */
function streamResponses(route: StreamRoute): Record<string, ResponseObject> {
  const answer = (partial: boolean): ResponseObject => ({
    description: partial ? `${route.response.description} One byte range of it.` : route.response.description,
    headers: Object.fromEntries(
      Object.entries(route.response.headers)
        .filter(([, header]) => (partial ? !header.wholeOnly : !header.partialOnly))
        .map(([name, header]) => [
          name,
          { description: header.description, required: !header.wholeOnly, schema: toJsonSchema(header.schema, 'output') },
        ]),
    ),
    // The Content-Type is the one the object was uploaded with; `*/*` says so to tools that check it.
    content: {
      'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
      '*/*': { schema: {} },
    },
  });
  return { '200': answer(false), '206': answer(true) };
}

function successResponses(route: RestRoute): Record<string, ResponseObject> {
  if (route.kind === 'stream') return streamResponses(route);
  const { description, schema, links } = route.response;
  return {
    '200': {
      description,
      content: { 'application/json': { schema: toJsonSchema(schema, 'output') } },
      ...(links ? { links } : {}),
    },
  };
}

/** The OpenAPI operation of one route of the REST table. */
export function toOperation(route: RestRoute): OperationObject {
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description + accessNote[route.access],
    tags: [route.tag],
    security: security(route.access),
    parameters: route.parameters.map(toParameter),
    ...(route.body
      ? {
          requestBody: {
            description: route.body.description,
            required: route.body.required,
            content: { 'application/json': { schema: toJsonSchema(route.body.schema, 'input') } },
          },
        }
      : {}),
    responses: { ...successResponses(route), ...errorResponses(route.errors) },
  };
}
