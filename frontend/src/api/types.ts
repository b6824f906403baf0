/**
 * Shapes of the services' JSON, taken from the types scripts/api-types generates from the
 * services' OpenAPI documents (generated/*.ts: never edit them; regenerate). Money is a decimal
 * string.
 */
import type { components as AuthComponents, operations as AuthOperations } from './generated/auth'
import type { components as OrdersComponents, operations as OrdersOperations } from './generated/orders'
import type { components as ProductsComponents, operations as ProductsOperations } from './generated/products'

type AuthSchema = AuthComponents['schemas']
type ProductsSchema = ProductsComponents['schemas']
type OrdersSchema = OrdersComponents['schemas']

type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never

/** The JSON body of an operation's response with status `S` (201 for a creation). */
export type ResponseBody<Op extends { responses: object }, S extends PropertyKey = 200> = JsonOf<
  Op['responses'][S & keyof Op['responses']]
>

/** The JSON request body of an operation. */
export type RequestBody<Op> = Op extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never

/** The operations of each service, by operation id (`list_products`, `place_order`, ...). */
export type AuthOperation = AuthOperations
export type ProductsOperation = ProductsOperations
export type OrdersOperation = OrdersOperations

export type User = AuthSchema['User']
export type Role = User['role']
/** A sign-in's answer: the user and a bearer token for API clients (the browser uses the cookie). */
export type Session = AuthSchema['Session']

export type Product = ProductsSchema['Product']
export type Category = ProductsSchema['CategoryCount']
/** A page of the public catalog, or of the seller's own listings. */
export type CatalogPage = ProductsSchema['ProductPage']
export type ProductInput = ProductsSchema['NewProduct']
export type ProductChanges = ProductsSchema['ProductChanges']

export type OrderStatus = OrdersSchema['OrderStatus']
export type OrderItem = OrdersSchema['OrderItem']
export type StatusChange = OrdersSchema['StatusChange']
export type Order = OrdersSchema['Order']
export type OrderPage = OrdersSchema['OrderPage']
export type NewOrderLine = OrdersSchema['NewOrderLine']
export type CardInput = OrdersSchema['Payment']

export type ConsumerGroupHealth = OrdersSchema['GroupHealth']
export type StreamHealth = OrdersSchema['StreamHealth']
export type DeadLetter = OrdersSchema['DeadLetter']
export type Replayed = OrdersSchema['Replayed']

/** The error body every service sends with a 4xx or 5xx. */
export type ErrorBody = AuthSchema['ErrorBody']
