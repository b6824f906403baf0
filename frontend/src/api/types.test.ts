import { describe, expectTypeOf, it } from 'vitest'
import type {
  AuthOperation as A,
  CatalogPage,
  Order,
  OrderPage,
  OrdersOperation as O,
  Product,
  ProductsOperation as P,
  RequestBody,
  ResponseBody,
  Session,
  User,
} from './types'

// Checked by the type checker (`npm run build`): a lookup that missed would be `never`, which
// type-checks against anything, so each one is pinned to the schema it must find.
describe('types from the OpenAPI documents', () => {
  it('find the response bodies of the operations the SPA calls', () => {
    expectTypeOf<ResponseBody<P['list_products']>>().toEqualTypeOf<CatalogPage>()
    expectTypeOf<ResponseBody<P['create_product'], 201>>().toEqualTypeOf<Product>()
    expectTypeOf<ResponseBody<A['login']>>().toEqualTypeOf<Session>()
    expectTypeOf<ResponseBody<A['signup'], 201>>().toEqualTypeOf<User>()
    expectTypeOf<ResponseBody<O['list_orders']>>().toEqualTypeOf<OrderPage>()
    expectTypeOf<ResponseBody<O['pay_order']>>().toEqualTypeOf<Order>()
    expectTypeOf<RequestBody<O['place_order']>>().toHaveProperty('items')
  })

  it('say what the services send, not what the SPA once assumed', () => {
    // A listing's description is always a string (empty when the seller gave none).
    expectTypeOf<Product['description']>().toEqualTypeOf<string>()
    expectTypeOf<NonNullable<Order['history']>[number]['status']>().toEqualTypeOf<Order['status']>()
  })
})
