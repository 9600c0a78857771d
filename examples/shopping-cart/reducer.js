// Shopping carts folded from ShoppingCartCmd records (seed 000), as the service applies them to
// its Cassandra table shopping_cart(cartId, owner, items map<uuid,int>, version):
//   Insert      a new cart of owner `ownerOrItem`, no items, version 0
//   SetOwner    owner = ownerOrItem
//   AddItem     items[ownerOrItem] += count
//   RemoveItem  items[ownerOrItem] -= count (an item at 0 or below leaves the map)
//   Delete      the cart is removed
// Every change bumps the version. The service updates carts with conditional (IF version = …)
// updates, which do nothing to a cart that does not exist: commands for a cart that was never
// inserted (or was deleted) leave no cart.

export function initialState(cartId) {
  return { cartId, owner: null, items: {}, version: null }
}

export function evolve(cart, event) {
  const { action, ownerOrItem, count } = event.payload
  if (action !== 'Insert' && cart.version === null) return null
  switch (action) {
    case 'Insert':
      return { cartId: cart.cartId, owner: ownerOrItem, items: {}, version: 0 }
    case 'SetOwner':
      return { ...cart, owner: ownerOrItem, version: bump(cart) }
    case 'AddItem':
      return { ...cart, items: addTo(cart.items, ownerOrItem, count ?? 0), version: bump(cart) }
    case 'RemoveItem':
      return { ...cart, items: addTo(cart.items, ownerOrItem, -(count ?? 0)), version: bump(cart) }
    case 'Delete':
      return null
    default:
      return cart
  }
}

function bump(cart) {
  return cart.version + 1
}

function addTo(items, item, delta) {
  const next = { ...items }
  const count = (next[item] ?? 0) + delta
  if (count > 0) next[item] = count
  else delete next[item]
  return next
}
