package procnode

import (
	"fmt"
)

// Partition cuts the network between two Pods of the node both ways, as a broken link
// between them would: each one's packets to the other vanish (a blackhole route in its
// namespace), so neither learns of it but by timeouts, while every other address stays
// reachable. It lasts as long as the Pods do.
func (n *Node) Partition(namespace, a, b string) error {
	wa, wb := n.workerByName(namespace, a), n.workerByName(namespace, b)
	if wa == nil || wb == nil {
		return fmt.Errorf("partition: Pods %s and %s must both run on the node", a, b)
	}
	na, nb := wa.network(), wb.network()
	if na == nil || nb == nil || na == nb {
		return fmt.Errorf("partition: Pods %s and %s need network namespaces of their own", a, b)
	}
	for _, link := range [][2]*podNet{{na, nb}, {nb, na}} {
		if err := ip("-n", link[0].name, "route", "add", "blackhole", link[1].ip.String()+"/32"); err != nil {
			return fmt.Errorf("partition: %w", err)
		}
	}
	return nil
}
